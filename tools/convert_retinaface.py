"""Convert the MIT-licensed PyTorch weights of biubug6/Face-Detector-1MB-with-landmark to ONNX.

Run by a maintainer, never at run time, in a separate venv that has PyTorch (unseen never depends on it):

    python -m venv /work/torchenv && /work/torchenv/bin/pip install torch==2.13.0 onnx
    /work/torchenv/bin/python tools/convert_retinaface.py mnet ../shared/models/retinaface-1mb/mobilenet0.25_Final.pth \
        src/unseen/models/retinaface_mnet.onnx

The three networks of that repository (commit 2b075657aef954b9426f938ac7fce100b6910fe6, `models/net.py`,
`net_slim.py`, `net_rfb.py`) are rebuilt here from their description, with the parameter names of the state
dicts so that the weights load strictly (every tensor used, none missing):

- mnet: RetinaFace on a MobileNet-0.25 backbone (three stages at strides 8, 16, 32), a feature pyramid with
  nearest-neighbour upsampling, an SSH context module per level and 1×1 heads with 2 anchors per cell;
- slim: a MobileNet-style trunk with heads at strides 8, 16, 32 and 64 (3, 2, 2 and 3 anchors per cell),
  depthwise-separable heads except the last;
- rfb: slim with its eighth block replaced by a receptive-field block (three dilated branches).

The exported graph takes a 1×3×H×W float32 BGR image with the training means (104, 117, 123) subtracted
(any H and W) and returns `loc` (1×N×4, box offsets from the anchors, in SSD's encoding with variances 0.1
and 0.2) and `conf` (1×N×2, softmax: background, face). The landmark heads are not exported. The anchors and
the decoding are unseen's own (tools/candidates/retinaface.py). The sha256 of the input and output files is printed
for MODELS.md, and the ONNX output is compared with PyTorch's on a random image.
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn


def conv_bn(cin: int, cout: int, stride: int = 1, relu: bool = True, kernel: int = 3) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, kernel, stride, kernel // 2, bias=False), nn.BatchNorm2d(cout)]
    return nn.Sequential(*layers, nn.ReLU(inplace=True)) if relu else nn.Sequential(*layers)


def conv_dw(cin: int, cout: int, stride: int) -> nn.Sequential:
    """A depthwise 3×3 and a pointwise 1×1 convolution, each batch-normalised and rectified."""
    return nn.Sequential(
        nn.Conv2d(cin, cin, 3, stride, 1, groups=cin, bias=False),
        nn.BatchNorm2d(cin),
        nn.ReLU(inplace=True),
        nn.Conv2d(cin, cout, 1, 1, 0, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


def separable_head(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    """A biased depthwise 3×3, a ReLU and a biased pointwise 1×1 (the slim and RFB heads)."""
    return nn.Sequential(nn.Conv2d(cin, cin, 3, stride, 1, groups=cin), nn.ReLU(inplace=True), nn.Conv2d(cin, cout, 1))


# --- RetinaFace on MobileNet-0.25 ------------------------------------------------------------------------


class Backbone(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stage1 = nn.Sequential(
            conv_bn(3, 8, 2), conv_dw(8, 16, 1), conv_dw(16, 32, 2), conv_dw(32, 32, 1), conv_dw(32, 64, 2),
            conv_dw(64, 64, 1),
        )  # fmt: skip
        self.stage2 = nn.Sequential(conv_dw(64, 128, 2), *[conv_dw(128, 128, 1) for _ in range(5)])
        self.stage3 = nn.Sequential(conv_dw(128, 256, 2), conv_dw(256, 256, 1))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        c1 = self.stage1(x)
        c2 = self.stage2(c1)
        return [c1, c2, self.stage3(c2)]


class Pyramid(nn.Module):
    def __init__(self, channels: tuple[int, int, int], out: int) -> None:
        super().__init__()
        self.output1 = conv_bn(channels[0], out, kernel=1)
        self.output2 = conv_bn(channels[1], out, kernel=1)
        self.output3 = conv_bn(channels[2], out, kernel=1)
        self.merge1 = conv_bn(out, out)
        self.merge2 = conv_bn(out, out)

    def forward(self, levels: list[torch.Tensor]) -> list[torch.Tensor]:
        p1, p2, p3 = self.output1(levels[0]), self.output2(levels[1]), self.output3(levels[2])
        p2 = self.merge2(p2 + F.interpolate(p3, size=p2.shape[2:], mode="nearest"))
        p1 = self.merge1(p1 + F.interpolate(p2, size=p1.shape[2:], mode="nearest"))
        return [p1, p2, p3]


class Context(nn.Module):
    """SSH: a 3×3 branch and two stacked branches (5×5 and 7×7 receptive fields), concatenated, rectified."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv3X3 = conv_bn(cin, cout // 2, relu=False)
        self.conv5X5_1 = conv_bn(cin, cout // 4)
        self.conv5X5_2 = conv_bn(cout // 4, cout // 4, relu=False)
        self.conv7X7_2 = conv_bn(cout // 4, cout // 4)
        self.conv7x7_3 = conv_bn(cout // 4, cout // 4, relu=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mid = self.conv5X5_1(x)
        return F.relu(torch.cat([self.conv3X3(x), self.conv5X5_2(mid), self.conv7x7_3(self.conv7X7_2(mid))], 1))


class Head(nn.Module):
    def __init__(self, cin: int, values: int) -> None:
        super().__init__()
        self.conv1x1 = nn.Conv2d(cin, values, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv1x1(x)


class MobileRetinaFace(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = Backbone()
        self.fpn = Pyramid((64, 128, 256), 64)
        self.ssh1, self.ssh2, self.ssh3 = Context(64, 64), Context(64, 64), Context(64, 64)
        self.ClassHead = nn.ModuleList([Head(64, 2 * 2) for _ in range(3)])
        self.BboxHead = nn.ModuleList([Head(64, 2 * 4) for _ in range(3)])
        self.LandmarkHead = nn.ModuleList([Head(64, 2 * 10) for _ in range(3)])

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        p = self.fpn(self.body(x))
        features = [self.ssh1(p[0]), self.ssh2(p[1]), self.ssh3(p[2])]
        loc = torch.cat([_flat(self.BboxHead[i](f), 4) for i, f in enumerate(features)], 1)
        conf = torch.cat([_flat(self.ClassHead[i](f), 2) for i, f in enumerate(features)], 1)
        return loc, F.softmax(conf, dim=-1)


# --- the slim and RFB 1 MB detectors ----------------------------------------------------------------------


class Conv(nn.Module):
    """A convolution, optionally batch-normalised (eps 1e-5) and rectified (the RFB block's unit)."""

    def __init__(self, cin: int, cout: int, kernel: int, padding: int = 0, dilation: int = 1, relu: bool = True):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, 1, padding, dilation=dilation, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=1e-5, momentum=0.01)
        self.relu = relu

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.bn(self.conv(x))
        return F.relu(x) if self.relu else x


class ReceptiveField(nn.Module):
    """Three branches with dilations 2, 3 and 5 (the last one deeper), joined by a 1×1 and added to a 1×1
    shortcut, then rectified."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        inter = channels // 8
        self.branch0 = self._dilated(channels, inter, 2)
        self.branch1 = self._dilated(channels, inter, 3)
        self.branch2 = nn.Sequential(
            Conv(channels, inter, 1, relu=False),
            Conv(inter, inter // 2 * 3, 3, 1),
            Conv(inter // 2 * 3, 2 * inter, 3, 1),
            Conv(2 * inter, 2 * inter, 3, 5, 5, False),
        )
        self.ConvLinear = Conv(6 * inter, channels, 1, relu=False)
        self.shortcut = Conv(channels, channels, 1, relu=False)

    @staticmethod
    def _dilated(channels: int, inter: int, dilation: int) -> nn.Sequential:
        return nn.Sequential(
            Conv(channels, inter, 1, relu=False),
            Conv(inter, 2 * inter, 3, 1),
            Conv(2 * inter, 2 * inter, 3, dilation, dilation, relu=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        joined = self.ConvLinear(torch.cat([self.branch0(x), self.branch1(x), self.branch2(x)], 1))
        return F.relu(joined + self.shortcut(x))


class OneMegabyte(nn.Module):
    def __init__(self, rfb: bool) -> None:
        super().__init__()
        self.conv1 = conv_bn(3, 16, 2)
        self.conv2, self.conv3, self.conv4 = conv_dw(16, 32, 1), conv_dw(32, 32, 2), conv_dw(32, 32, 1)
        self.conv5, self.conv6, self.conv7 = conv_dw(32, 64, 2), conv_dw(64, 64, 1), conv_dw(64, 64, 1)
        self.conv8 = ReceptiveField(64) if rfb else conv_dw(64, 64, 1)
        self.conv9, self.conv10, self.conv11 = conv_dw(64, 128, 2), conv_dw(128, 128, 1), conv_dw(128, 128, 1)
        self.conv12, self.conv13 = conv_dw(128, 256, 2), conv_dw(256, 256, 1)
        self.conv14 = nn.Sequential(nn.Conv2d(256, 64, 1), nn.ReLU(inplace=True), separable_head(64, 256, 2), nn.ReLU())
        anchors = (3, 2, 2, 3)
        self.loc = self._heads(anchors, 4)
        self.conf = self._heads(anchors, 2)
        self.landm = self._heads(anchors, 10)

    @staticmethod
    def _heads(anchors: tuple[int, ...], values: int) -> nn.Sequential:
        return nn.Sequential(
            separable_head(64, anchors[0] * values),
            separable_head(128, anchors[1] * values),
            separable_head(256, anchors[2] * values),
            nn.Conv2d(256, anchors[3] * values, 3, padding=1),
        )

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.conv8(self.conv7(self.conv6(self.conv5(self.conv4(self.conv3(self.conv2(self.conv1(x))))))))
        f1 = x
        f2 = self.conv11(self.conv10(self.conv9(f1)))
        f3 = self.conv13(self.conv12(f2))
        f4 = self.conv14(f3)
        features = [f1, f2, f3, f4]
        loc = torch.cat([_flat(self.loc[i](f), 4) for i, f in enumerate(features)], 1)
        conf = torch.cat([_flat(self.conf[i](f), 2) for i, f in enumerate(features)], 1)
        return loc, F.softmax(conf, dim=-1)


def _flat(x: torch.Tensor, values: int) -> torch.Tensor:
    """N×(A·V)×H×W to N×(H·W·A)×V: cells in row-major order, a cell's anchors together."""
    return x.permute(0, 2, 3, 1).reshape(x.shape[0], -1, values)


NETWORKS = {"mnet": MobileRetinaFace, "slim": lambda: OneMegabyte(rfb=False), "rfb": lambda: OneMegabyte(rfb=True)}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("network", choices=sorted(NETWORKS))
    parser.add_argument("weights", type=Path, help="the .pth state dict")
    parser.add_argument("output", type=Path, help="the .onnx file to write")
    args = parser.parse_args()

    net = NETWORKS[args.network]()
    state = torch.load(args.weights, map_location="cpu", weights_only=True)
    net.load_state_dict(state, strict=True)
    net.eval()
    example = torch.randn(1, 3, 480, 640) * 60
    torch.onnx.export(
        net,
        (example,),
        str(args.output),
        input_names=["input"],
        output_names=["loc", "conf"],
        dynamic_axes={"input": {2: "height", 3: "width"}, "loc": {1: "anchors"}, "conf": {1: "anchors"}},
        opset_version=13,
        dynamo=False,
    )
    import onnxruntime as ort  # only to check the export

    check = torch.randn(1, 3, 360, 500) * 60
    with torch.no_grad():
        want = [t.numpy() for t in net(check)]
    got = ort.InferenceSession(str(args.output), providers=["CPUExecutionProvider"]).run(None, {"input": check.numpy()})
    worst = max(float(abs(g - w).max()) for g, w in zip(got, want, strict=True))
    print(f"largest difference between ONNX Runtime and PyTorch on a random 500×360 input: {worst:.2e}")
    print(f"{sha256(args.weights)}  {args.weights}")
    print(f"{sha256(args.output)}  {args.output}")


if __name__ == "__main__":
    main()
