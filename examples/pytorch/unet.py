"""A compact U-Net for image segmentation (Ronneberger et al., 2015), with padded convolutions.

Each encoder step halves the height and width (MaxPool2d) and each decoder step doubles them
(ConvTranspose2d with kernel_size=2, stride=2), then concatenates the encoder feature map of the
same level along the channel axis. The concatenation only works when both sizes agree: with four
levels, inputs whose height and width are multiples of 16 line up exactly; other sizes are padded
before the concatenation.
"""

import torch
import torch.nn.functional as F
from torch import nn


class DoubleConv(nn.Module):
    """(Conv2d 3x3 -> BatchNorm -> ReLU) twice; padding=1 keeps the height and width."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.block = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(out_channels, out_channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block(x)


class Down(nn.Module):
    """Halves the height and width, then convolves."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.pool = nn.MaxPool2d(kernel_size=2)
        self.conv = DoubleConv(in_channels, out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(self.pool(x))


class Up(nn.Module):
    """Doubles the height and width, joins the skip connection, then convolves."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.up = nn.ConvTranspose2d(in_channels, in_channels // 2, kernel_size=2, stride=2)
        self.conv = DoubleConv(in_channels, out_channels)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = self.up(x)
        # When the input size was odd at some level, the upsampled map is one pixel short: pad it.
        dy = skip.size(2) - x.size(2)
        dx = skip.size(3) - x.size(3)
        x = F.pad(x, [dx // 2, dx - dx // 2, dy // 2, dy - dy // 2])
        return self.conv(torch.cat([skip, x], dim=1))


class UNet(nn.Module):
    def __init__(self, in_channels: int = 3, num_classes: int = 2, base: int = 64) -> None:
        super().__init__()
        self.inc = DoubleConv(in_channels, base)
        self.down1 = Down(base, base * 2)
        self.down2 = Down(base * 2, base * 4)
        self.down3 = Down(base * 4, base * 8)
        self.down4 = Down(base * 8, base * 16)
        self.up1 = Up(base * 16, base * 8)
        self.up2 = Up(base * 8, base * 4)
        self.up3 = Up(base * 4, base * 2)
        self.up4 = Up(base * 2, base)
        self.outc = nn.Conv2d(base, num_classes, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1 = self.inc(x)  # (N, 64, H, W)
        x2 = self.down1(x1)  # (N, 128, H/2, W/2)
        x3 = self.down2(x2)  # (N, 256, H/4, W/4)
        x4 = self.down3(x3)  # (N, 512, H/8, W/8)
        x5 = self.down4(x4)  # (N, 1024, H/16, W/16)
        x = self.up1(x5, x4)
        x = self.up2(x, x3)
        x = self.up3(x, x2)
        x = self.up4(x, x1)
        return self.outc(x)  # (N, num_classes, H, W)


if __name__ == "__main__":
    model = UNet(in_channels=3, num_classes=2)
    for size in (256, 250):
        logits = model(torch.randn(1, 3, size, size))
        print(size, "->", tuple(logits.shape))
