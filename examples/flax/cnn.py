"""A small classifier and a matching upsampling decoder in Flax (linen), for 28x28 grayscale images.

Flax layers infer their input channels from the data, so only the output `features` are given.
Inputs are channels-last, (batch, height, width, channels), and nn.Conv pads "SAME" by default,
so only the pooling and the strided transposed convolutions change the height and width.
"""

import flax.linen as nn
import jax
import jax.numpy as jnp


class CNN(nn.Module):
    num_classes: int = 10

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        x = nn.Conv(features=32, kernel_size=(3, 3))(x)  # (N, 28, 28, 32)
        x = nn.relu(x)
        x = nn.avg_pool(x, window_shape=(2, 2), strides=(2, 2))  # (N, 14, 14, 32)
        x = nn.Conv(features=64, kernel_size=(3, 3))(x)  # (N, 14, 14, 64)
        x = nn.relu(x)
        x = nn.avg_pool(x, window_shape=(2, 2), strides=(2, 2))  # (N, 7, 7, 64)
        x = nn.Conv(features=64, kernel_size=(3, 3), padding="VALID")(x)  # (N, 5, 5, 64)
        x = nn.relu(x)
        x = x.reshape((x.shape[0], -1))  # flatten
        x = nn.Dense(features=256)(x)
        x = nn.relu(x)
        return nn.Dense(features=self.num_classes)(x)


class Decoder(nn.Module):
    """Upsamples a (N, 7, 7, C) feature map back to a (N, 28, 28, 1) image."""

    @nn.compact
    def __call__(self, z: jax.Array) -> jax.Array:
        x = nn.ConvTranspose(features=64, kernel_size=(3, 3), strides=(2, 2))(z)  # (N, 14, 14, 64)
        x = nn.relu(x)
        x = nn.ConvTranspose(features=32, kernel_size=(3, 3), strides=(2, 2))(x)  # (N, 28, 28, 32)
        x = nn.relu(x)
        x = nn.Conv(features=1, kernel_size=(3, 3))(x)  # (N, 28, 28, 1)
        return nn.sigmoid(x)


if __name__ == "__main__":
    key = jax.random.PRNGKey(0)
    images = jnp.ones((4, 28, 28, 1))
    classifier = CNN()
    params = classifier.init(key, images)
    print("logits:", classifier.apply(params, images).shape)  # (4, 10)

    decoder = Decoder()
    latent = jnp.ones((4, 7, 7, 64))
    print(decoder.tabulate(key, latent))
