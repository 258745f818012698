/**
 * Why did the model say that: attributions of one output of a model to the parts of its input.
 *
 * <p>Gradient methods differentiate a {@link dev.jumbo.explain.ModelFunction} with respect to its
 * input through the autograd ({@link dev.jumbo.explain.Gradients}): {@link dev.jumbo.explain.Saliency},
 * {@link dev.jumbo.explain.InputXGradient}, {@link dev.jumbo.explain.SmoothGrad},
 * {@link dev.jumbo.explain.IntegratedGradients} (with a {@link dev.jumbo.explain.Quadrature} rule) and
 * {@link dev.jumbo.explain.GradCam}. Model-agnostic methods only evaluate it: {@link dev.jumbo.explain.Occlusion},
 * and over a {@link dev.jumbo.explain.FeatureGame} (columns with a background, superpixels, tokens)
 * {@link dev.jumbo.explain.Lime}, {@link dev.jumbo.explain.KernelShap} and {@link dev.jumbo.explain.ExactShapley}.
 * Transformers add {@link dev.jumbo.explain.AttentionMaps} and {@link dev.jumbo.explain.AttentionRollout}, and
 * {@link dev.jumbo.explain.TextModel} explains GPT-2, BERT and Llama token by token
 * ({@link dev.jumbo.explain.TokenAttributions}, {@link dev.jumbo.explain.TokenGame}).
 * {@link dev.jumbo.explain.SanityCheck} is Adebayo et al.'s model-randomisation test.
 *
 * <p>Every method returns an {@link dev.jumbo.explain.Explanation}: attributions in the input's shape, the
 * model's prediction and, where the method has one, the gap in its completeness property.
 * {@link dev.jumbo.explain.Heatmap}, {@link dev.jumbo.explain.TokenStrip}, {@link dev.jumbo.explain.FeatureBars}
 * and {@link dev.jumbo.explain.ExplanationReport} draw them. Builds on tensor, nn, train and models;
 * nothing in the core depends on this package.
 */
package dev.jumbo.explain;
