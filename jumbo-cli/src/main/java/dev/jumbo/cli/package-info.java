/**
 * The {@code jumbo} command (picocli): train, evaluate, predict, summary and bench, with a
 * progress bar (progressbar), charts (XChart) and JSON output (Jackson). Depends on jumbo-core.
 */
package dev.jumbo.cli;
