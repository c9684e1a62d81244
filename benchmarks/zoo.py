"""The model zoo: torchvision architectures built from their constructors
(nothing downloaded) with non-degenerate random parameters. One definition
for the zoo test (test/python/test_model_zoo.py) and the zoo benchmark
(benchmarks/bench_zoo.py)."""
from __future__ import annotations


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
    }


# The names, in order, without importing torchvision.
NAMES = ["resnet18", "resnet50", "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large",
         "efficientnet_b0", "squeezenet1_1", "shufflenet_v2_x1_0", "regnet_y_400mf",
         "convnext_tiny", "densenet121", "googlenet", "vit_b_16_small", "swin_t"]


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
    x = torch.randn(batch, 3, image_size, image_size,
                    generator=torch.Generator().manual_seed(seed + 1))
    return model, x
