"""DCGAN generator and discriminator for 64x64 RGB images (Radford et al., 2015).

The generator grows a latent vector into an image with transposed convolutions: each
ConvTranspose2d(kernel_size=4, stride=2, padding=1) doubles the height and width.
The discriminator mirrors it with strided convolutions that halve them.
"""

import torch
from torch import nn

latent_dim = 100  # size of the noise vector z
g_features = 64  # generator feature maps at the last layer
d_features = 64  # discriminator feature maps at the first layer
channels = 3  # RGB


class Generator(nn.Module):
    def __init__(self, nz: int = latent_dim, ngf: int = g_features, nc: int = channels) -> None:
        super().__init__()
        self.main = nn.Sequential(
            # z: (N, nz, 1, 1) -> (N, ngf * 8, 4, 4)
            nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False),
            nn.BatchNorm2d(ngf * 8),
            nn.ReLU(True),
            # -> (N, ngf * 4, 8, 8)
            nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 4),
            nn.ReLU(True),
            # -> (N, ngf * 2, 16, 16)
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            # -> (N, ngf, 32, 32)
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf),
            nn.ReLU(True),
            # -> (N, nc, 64, 64)
            nn.ConvTranspose2d(ngf, nc, kernel_size=4, stride=2, padding=1, bias=False),
            nn.Tanh(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.main(z)


class Discriminator(nn.Module):
    def __init__(self, nc: int = channels, ndf: int = d_features) -> None:
        super().__init__()
        self.main = nn.Sequential(
            # (N, nc, 64, 64) -> (N, ndf, 32, 32)
            nn.Conv2d(nc, ndf, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
            # -> (N, ndf * 2, 16, 16)
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 2),
            nn.LeakyReLU(0.2, inplace=True),
            # -> (N, ndf * 4, 8, 8)
            nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 4),
            nn.LeakyReLU(0.2, inplace=True),
            # -> (N, ndf * 8, 4, 4)
            nn.Conv2d(ndf * 4, ndf * 8, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 8),
            nn.LeakyReLU(0.2, inplace=True),
            # -> (N, 1, 1, 1): one real/fake score per image
            nn.Conv2d(ndf * 8, 1, kernel_size=4, stride=1, padding=0, bias=False),
            nn.Sigmoid(),
        )

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.main(image).view(-1)


if __name__ == "__main__":
    generator = Generator()
    discriminator = Discriminator()
    z = torch.randn(16, latent_dim, 1, 1)
    fake = generator(z)
    print("generated:", tuple(fake.shape))  # (16, 3, 64, 64)
    print("scores:", tuple(discriminator(fake).shape))  # (16,)
