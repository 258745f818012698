/**
 * Why did the model say that: attributions of one output of a model to the parts of its input.
 *
 * <p>Gradient methods ({@link dev.jumbo.explain.IntegratedGradients}, saliency, SmoothGrad,
 * Grad-CAM) differentiate a {@link dev.jumbo.explain.ModelFunction} with respect to its input
 * through the autograd; model-agnostic methods (occlusion, LIME, KernelSHAP, exact Shapley values)
 * only evaluate it; transformers add attention maps and attention rollout. Every method returns an
 * {@link dev.jumbo.explain.Explanation}: attributions in the input's shape, the model's prediction
 * and, where the method has one, the gap in its completeness property. Builds on tensor, nn and
 * models; nothing in the core depends on this package.
 */
package dev.jumbo.explain;
