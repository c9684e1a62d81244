"""The model zoo: torchvision architectures built from their constructors
and Hugging Face transformers built from small configs (4 layers, width
256, sequence 128; nothing downloaded), with non-degenerate random
parameters. One definition for the zoo test (test/python/test_model_zoo.py)
and the zoo benchmark (benchmarks/bench_zoo.py)."""
from __future__ import annotations

# Hugging Face models take token ids of this length (ViT: an image).
SEQUENCE = 128


def _hf(name: str):
    """A Hugging Face model returning its last hidden state (a tensor, not
    a ModelOutput), in eval mode, from a small config with the library's
    default vocabulary sizes."""
    import torch
    import transformers as hf
    hf.logging.set_verbosity_error()
    width = dict(hidden_size=256, num_hidden_layers=4, num_attention_heads=4,
                 intermediate_size=1024)
    if name == "hf_bert":
        model = hf.BertModel(hf.BertConfig(**width))
    elif name == "hf_distilbert":
        model = hf.DistilBertModel(hf.DistilBertConfig(dim=256, n_layers=4, n_heads=4,
                                                       hidden_dim=1024))
    elif name == "hf_gpt2":
        model = hf.GPT2Model(hf.GPT2Config(n_embd=256, n_layer=4, n_head=4, use_cache=False))
    else:
        model = hf.ViTModel(hf.ViTConfig(**width, image_size=224, patch_size=16))

    class LastHiddenState(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, *args):
            return self.inner(*args).last_hidden_state

    return LastHiddenState(model)


def is_text(name: str) -> bool:
    """Whether the model takes token ids (int64) rather than an image."""
    return name in ("hf_bert", "hf_distilbert", "hf_gpt2")


def _vit(image_size: int):
    """ViT-B/16's architecture at a small width (2 layers, width 128)."""
    from torchvision.models.vision_transformer import VisionTransformer
    return VisionTransformer(image_size=image_size, patch_size=16, num_layers=2, num_heads=4,
                             hidden_dim=128, mlp_dim=256)


def zoo() -> dict:
    """name -> builder(image_size) of an nn.Module."""
    import torchvision.models as tvm
    return {
        "resnet18": lambda s: tvm.resnet18(weights=None),
        "resnet50": lambda s: tvm.resnet50(weights=None),
        "mobilenet_v2": lambda s: tvm.mobilenet_v2(weights=None),
        "mobilenet_v3_small": lambda s: tvm.mobilenet_v3_small(weights=None),
        "mobilenet_v3_large": lambda s: tvm.mobilenet_v3_large(weights=None),
        "efficientnet_b0": lambda s: tvm.efficientnet_b0(weights=None),
        "squeezenet1_1": lambda s: tvm.squeezenet1_1(weights=None),
        "shufflenet_v2_x1_0": lambda s: tvm.shufflenet_v2_x1_0(weights=None),
        "regnet_y_400mf": lambda s: tvm.regnet_y_400mf(weights=None),
        "convnext_tiny": lambda s: tvm.convnext_tiny(weights=None),
        "densenet121": lambda s: tvm.densenet121(weights=None),
        "googlenet": lambda s: tvm.googlenet(weights=None, aux_logits=False, init_weights=True),
        "vit_b_16_small": _vit,
        "swin_t": lambda s: tvm.swin_t(weights=None),
        "hf_bert": lambda s: _hf("hf_bert"),
        "hf_distilbert": lambda s: _hf("hf_distilbert"),
        "hf_gpt2": lambda s: _hf("hf_gpt2"),
        "hf_vit": lambda s: _hf("hf_vit"),
    }


# The names, in order, without importing torchvision.
NAMES = ["resnet18", "resnet50", "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large",
         "efficientnet_b0", "squeezenet1_1", "shufflenet_v2_x1_0", "regnet_y_400mf",
         "convnext_tiny", "densenet121", "googlenet", "vit_b_16_small", "swin_t",
         "hf_bert", "hf_distilbert", "hf_gpt2", "hf_vit"]


def randomized(model, seed: int = 0):
    """`model` in eval mode with batch-norm statistics and affine
    parameters drawn around their typical trained values, and every
    all-zero parameter (zero-initialised heads) drawn small, so no layer is
    the identity and the output is not degenerate (a zero output would
    match anything)."""
    import torch
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)
                if m.affine:
                    m.weight.copy_(torch.rand(m.weight.shape, generator=g) + 0.5)
                    m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)
        for p in model.parameters():
            if p.numel() and not p.abs().max():
                p.copy_(torch.randn(p.shape, generator=g) * 0.05)
    return model.eval()


def build(name: str, image_size: int, batch: int = 1, seed: int = 0):
    """(model, input): the same in every process for the same arguments."""
    import torch
    torch.manual_seed(seed)
    model = randomized(zoo()[name](image_size), seed)
    generator = torch.Generator().manual_seed(seed + 1)
    if is_text(name):
        vocabulary = model.inner.config.vocab_size
        x = torch.randint(0, vocabulary, (batch, SEQUENCE), generator=generator)
    else:  # Hugging Face's ViT takes its configured 224x224
        size = 224 if name == "hf_vit" else image_size
        x = torch.randn(batch, 3, size, size, generator=generator)
    return model, x
