'use strict';
// The playground: lists the server's models, streams a completion from POST /v1/completions
// (stream: true, read chunk by chunk from the response body) and shows how fast it came.
// Whatever the server or the model sends goes into the page as text (textContent, Text nodes,
// new Option), never as HTML; the server's Content-Security-Policy forbids inline script besides.

const page = {
  settings: document.getElementById('settings'),
  model: document.getElementById('model'),
  refresh: document.getElementById('refresh'),
  maxTokens: document.getElementById('max-tokens'),
  temperature: document.getElementById('temperature'),
  apiKey: document.getElementById('api-key'),
  prompt: document.getElementById('prompt'),
  generate: document.getElementById('generate'),
  stop: document.getElementById('stop'),
  status: document.getElementById('status'),
  ttft: document.getElementById('ttft'),
  tps: document.getElementById('tps'),
  tokens: document.getElementById('tokens'),
  error: document.getElementById('error'),
  output: document.getElementById('output'),
  echo: document.getElementById('echo'),
  completion: document.getElementById('completion'),
};

// sessionStorage: the key lives as long as this tab, never on disk for other visits to see
const API_KEY = 'jumbo.playground.apiKey';

/** The running generation's AbortController (Stop aborts its fetch), or null. */
let running = null;

function requestHeaders(withJson) {
  const headers = {};
  if (withJson) headers['Content-Type'] = 'application/json';
  const key = page.apiKey.value.trim();
  if (key !== '') headers['Authorization'] = 'Bearer ' + key;
  return headers;
}

function showError(message) {
  page.error.textContent = message;
  page.error.hidden = false;
}

function clearError() {
  page.error.textContent = '';
  page.error.hidden = true;
}

function setStatus(state, text) {
  page.status.dataset.state = state;
  page.status.textContent = text;
}

/** "401 Unauthorized: Incorrect API key provided." from an OpenAI error body, or the status alone when the body is not one. */
async function describeFailure(response) {
  const status = (response.status + ' ' + response.statusText).trim();
  try {
    const body = await response.json();
    if (body && body.error && typeof body.error.message === 'string') return status + ': ' + body.error.message;
  } catch (ignored) {
    // not JSON: the status line says what there is to say
  }
  return status;
}

async function loadModels() {
  page.refresh.disabled = true;
  try {
    const response = await fetch('/v1/models', { headers: requestHeaders(false), cache: 'no-store' });
    if (!response.ok) {
      showError('Listing the models failed: ' + await describeFailure(response));
      return;
    }
    const ids = (await response.json()).data.map(m => String(m.id));
    const previous = page.model.value;
    page.model.replaceChildren(...ids.map(id => new Option(id, id)));
    if (ids.includes(previous)) page.model.value = previous;
    page.model.dataset.loaded = String(ids.length);
    clearError();
  } catch (e) {
    showError('Could not reach the server: ' + e.message);
  } finally {
    page.refresh.disabled = false;
  }
}

/** The request body from the form; an empty number field is left out so that the server's default applies. */
function requestBody() {
  const body = { model: page.model.value, prompt: page.prompt.value, stream: true };
  const maxTokens = page.maxTokens.value.trim();
  if (maxTokens !== '') body.max_tokens = Number(maxTokens);
  const temperature = page.temperature.value.trim();
  if (temperature !== '') body.temperature = Number(temperature);
  return body;
}

/** The time to first token, and chunks per second over the chunks after the first one. */
class Speed {
  constructor() {
    this.sent = performance.now();
    this.first = null;
    this.last = null;
    this.chunks = 0;
  }

  chunk() {
    this.last = performance.now();
    if (this.first === null) this.first = this.last;
    this.chunks++;
  }

  show() {
    page.tokens.textContent = this.chunks === 0 ? '–' : String(this.chunks);
    page.ttft.textContent = this.first === null ? '–' : formatMillis(this.first - this.sent);
    const seconds = (this.last - this.first) / 1000;
    page.tps.textContent = this.chunks > 1 && seconds > 0 ? Math.round((this.chunks - 1) / seconds).toLocaleString('en') : '–';
  }
}

function formatMillis(ms) {
  return ms < 10 ? ms.toFixed(1) + ' ms' : ms < 1000 ? Math.round(ms) + ' ms' : (ms / 1000).toFixed(2) + ' s';
}

/**
 * Reads a server-sent event stream of OpenAI completion chunks until data: [DONE], calling
 * onText with each chunk's text. Returns the finish reason; throws an Error with the server's
 * message when the stream carries an error event.
 */
async function readEvents(body, onText, onRead) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffered = '';
  let finish = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error('The stream ended before data: [DONE].');
    buffered += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffered.search(/\r?\n\r?\n/)) >= 0) {
      const event = buffered.slice(0, end);
      buffered = buffered.slice(end).replace(/^\r?\n\r?\n/, '');
      const data = event.split(/\r?\n/).filter(line => line.startsWith('data:'))
        .map(line => line.slice(5).replace(/^ /, '')).join('\n');
      if (data === '') continue; // a comment or a keep-alive
      if (data === '[DONE]') {
        onRead();
        return finish;
      }
      const chunk = JSON.parse(data);
      if (chunk.error) throw new Error(chunk.error.message);
      const choice = chunk.choices && chunk.choices[0];
      if (!choice) continue;
      if (typeof choice.text === 'string' && choice.text !== '') onText(choice.text);
      if (choice.finish_reason) finish = choice.finish_reason;
    }
    onRead();
  }
}

async function generate() {
  if (running) return;
  clearError();
  const body = requestBody();
  const text = document.createTextNode('');
  page.echo.textContent = body.prompt;
  page.completion.replaceChildren(text);
  const speed = new Speed();
  speed.show();
  running = new AbortController();
  page.generate.disabled = true;
  page.stop.disabled = false;
  setStatus('waiting', 'Waiting for the first token…');
  try {
    const response = await fetch('/v1/completions', {
      method: 'POST', headers: requestHeaders(true), body: JSON.stringify(body), signal: running.signal, cache: 'no-store',
    });
    if (!response.ok) {
      showError(await describeFailure(response));
      setStatus('failed', 'Failed');
      return;
    }
    setStatus('streaming', 'Streaming…');
    const finish = await readEvents(response.body, piece => {
      speed.chunk();
      text.appendData(piece);
    }, () => {
      speed.show();
      page.output.scrollTop = page.output.scrollHeight;
    });
    setStatus('done', finish === 'length' ? 'Done: reached max tokens' : finish === 'stop' ? 'Done: the model stopped' : 'Done');
  } catch (e) {
    if (e.name === 'AbortError') {
      setStatus('stopped', 'Stopped');
    } else {
      showError(e.message);
      setStatus('failed', 'Failed');
    }
  } finally {
    speed.show();
    running = null;
    page.generate.disabled = false;
    page.stop.disabled = true;
  }
}

page.apiKey.value = sessionStorage.getItem(API_KEY) || '';
page.apiKey.addEventListener('input', () => {
  const key = page.apiKey.value.trim();
  if (key === '') sessionStorage.removeItem(API_KEY);
  else sessionStorage.setItem(API_KEY, key);
});
page.apiKey.addEventListener('change', loadModels);
page.settings.addEventListener('submit', e => e.preventDefault()); // Enter in a field must not reload the page
page.refresh.addEventListener('click', loadModels);
page.generate.addEventListener('click', generate);
page.stop.addEventListener('click', () => running && running.abort());
page.prompt.addEventListener('keydown', e => {
  if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
    e.preventDefault();
    generate();
  }
});
loadModels();
