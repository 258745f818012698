package dev.jumbo.explain;

import dev.jumbo.nn.Parameter;
import dev.jumbo.tensor.Shape;
import dev.jumbo.tensor.Tensor;
import dev.jumbo.train.Sequential;

import java.util.List;

/**
 * A model as the explainers see it: a batch of inputs of one shape in, a row of output scores per
 * input out ({@code [n, ...inputShape]} to {@code [n, outputs]}), recorded in the autograd graph
 * when gradients are enabled, so gradient methods can differentiate it with respect to the input.
 *
 * <pre>{@code
 * ModelFunction f = ModelFunction.of(Sequential.load(Path.of("runs/cnn")), Output.AS_IS);
 * Explanation e = IntegratedGradients.defaults().explain(f, image, 3);
 * }</pre>
 */
public interface ModelFunction {

    /** Which of a classifier's outputs are explained. */
    enum Output {
        /** What the model returns (probabilities after a softmax head), as Captum explains the model it is given. */
        AS_IS,
        /** The logits a final softmax or sigmoid squashed; for a model without one, what it returns. */
        LOGITS
    }

    /** The shape of one input, without the batch dimension. */
    Shape inputShape();

    /** The number of outputs per input. */
    int outputs();

    /** Scores {@code [n, outputs]} of the inputs {@code [n, ...inputShape]}. */
    Tensor apply(Tensor batch);

    /**
     * The model's weights: gradient methods stop them requiring gradients while they differentiate
     * with respect to the input, so no weight gradient is computed or left behind.
     */
    default List<Parameter> parameters() {
        return List.of();
    }

    /**
     * A {@link Sequential} model's outputs, as it returns them or before its final softmax or
     * sigmoid. The model is put in inference mode (dropout off), which is what is explained.
     */
    static ModelFunction of(Sequential model, Output output) {
        model.train(false);
        return new ModelFunction() {
            @Override
            public Shape inputShape() {
                return model.inputShape();
            }

            @Override
            public int outputs() {
                return model.outputShape().size();
            }

            @Override
            public Tensor apply(Tensor batch) {
                Tensor y = model.forward(batch);
                if (output == Output.LOGITS) {
                    Tensor logits = y.logitsOf(Tensor.Squash.SOFTMAX);
                    if (logits == null) logits = y.logitsOf(Tensor.Squash.SIGMOID);
                    if (logits != null) y = logits;
                }
                return y.reshape(batch.dim(0), outputs());
            }

            @Override
            public List<Parameter> parameters() {
                return model.parameters();
            }
        };
    }
}
