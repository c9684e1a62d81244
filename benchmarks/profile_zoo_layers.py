"""Which layers of a zoo model lose to ONNX Runtime, measured: every
distinct convolution of the torchvision model (shape, stride, padding,
groups), as a Conv2d module with bias on its own, through `fc.from_pytorch`
and through `torch.onnx.export` + ONNX Runtime, timed alternately in one
process; sorted by the time the model loses on that configuration (the gap
times how often the model runs it).

    PYTHONPATH=build/python_packages taskset -c 0 python3 benchmarks/profile_zoo_layers.py mobilenet_v2 1
"""
import os
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import in_rounds, onnxruntime_session, scratch_dir, set_threads  # noqa: E402


def conv_layers(model, x):
    """(input shape, Conv2d) of every convolution, in execution order."""
    import torch
    seen = []
    hooks = [m.register_forward_hook(lambda mod, inp, out: seen.append((tuple(inp[0].shape), mod)))
             for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    return seen


def main():
    name, threads = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1
    set_threads(threads)
    import torch

    import flashcompile as fc
    import zoo
    torch.set_num_threads(threads)
    fc.set_num_threads(threads)
    model, x = zoo.build(name, 224)
    counts = {}
    for shape, conv in conv_layers(model, x):
        key = (shape, conv.out_channels, conv.kernel_size, conv.stride, conv.padding, conv.groups)
        counts[key] = counts.get(key, 0) + 1
    tmp, rows = scratch_dir("flash-layers-"), []
    for i, (key, count) in enumerate(counts.items()):
        shape, out, kernel, stride, padding, groups = key
        conv = torch.nn.Conv2d(shape[1], out, kernel, stride, padding, groups=groups).eval()
        xi = torch.rand(shape)
        ours = fc.from_pytorch(conv, (xi,))
        path = f"{tmp}/{i}.onnx"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(conv, (xi,), dynamo=True, verbose=False).save(path)
        sess = onnxruntime_session(path, threads)
        xn = xi.numpy()
        feed = {sess.get_inputs()[0].name: xn}
        t = in_rounds({"flash": lambda: ours(xn), "ort": lambda: sess.run(None, feed)},
                      rounds=3, min_time=0.1)
        flops = 2 * (shape[1] // groups) * kernel[0] * kernel[1] * ours(xn).size
        rows.append((count * (t["flash"] - t["ort"]), key, count, t, flops))
    total = {"flash": 0.0, "ort": 0.0}
    print(f"{'input':>18} {'out':>5} {'k':>5} {'s':>3} {'g':>4} {'n':>3} {'ours us':>9} "
          f"{'ORT us':>9} {'ratio':>6} {'GF/s':>6} {'lost us':>8}")
    for lost, key, count, t, flops in sorted(rows, key=lambda r: -r[0]):
        shape, out, kernel, stride, padding, groups = key
        for k in total:
            total[k] += count * t[k]
        print(f"{'x'.join(map(str, shape)):>18} {out:>5} {kernel[0]}x{kernel[1]:<3} {stride[0]:>3} "
              f"{groups:>4} {count:>3} {t['flash'] * 1e6:9.1f} {t['ort'] * 1e6:9.1f} "
              f"{t['ort'] / t['flash']:6.2f} {flops / t['flash'] / 1e9:6.1f} {lost * 1e6:8.1f}")
    print(f"convolutions alone: ours {total['flash'] * 1e3:.2f} ms, ONNX Runtime "
          f"{total['ort'] * 1e3:.2f} ms")


if __name__ == "__main__":
    main()
