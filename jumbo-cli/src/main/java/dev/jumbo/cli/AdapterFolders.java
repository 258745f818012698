package dev.jumbo.cli;

import dev.jumbo.io.FormatException;
import dev.jumbo.lora.LoraAdapters;
import dev.jumbo.lora.LoraTarget;
import dev.jumbo.lora.PeftAdapter;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;

/** {@code --adapter DIR}: a PEFT LoRA folder attached to a model's modules (GPT-2, BERT), unmerged. */
final class AdapterFolders {
    private AdapterFolders() {}

    /**
     * Reads the adapter in {@code adapter} and attaches it to {@code modules} (a model's {@code loraModules()});
     * says what it attached on {@code err} when not null.
     *
     * @throws FormatException naming the adapter's file when it does not fit the model at {@code model}
     */
    static LoraAdapters attach(Map<String, LoraTarget> modules, Path adapter, Path model, PrintWriter err) throws IOException {
        PeftAdapter peft = PeftAdapter.read(adapter);
        LoraAdapters lora;
        try {
            lora = LoraAdapters.load(modules, peft);
        } catch (IllegalArgumentException e) {
            throw new FormatException(adapter.resolve(PeftAdapter.WEIGHTS_FILE), e.getMessage() + " (is it an adapter for " + model + "?)");
        }
        if (err != null)
            err.printf("LoRA adapter %s: r %d on %d modules, %d parameters%n", adapter, peft.config().r(), lora.adapters().size(), lora.parameterCount());
        return lora;
    }
}
