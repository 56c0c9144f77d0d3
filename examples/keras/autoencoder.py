"""A convolutional autoencoder for 28x28 grayscale images (MNIST-sized), in Keras 3.

The encoder halves the height and width twice with strided Conv2D layers; the decoder doubles
them back with Conv2DTranspose. With padding="same" a stride-2 layer maps 28 -> 14 -> 7 and back
7 -> 14 -> 28. Keras tensors are channels-last: (batch, height, width, channels).
"""

import keras
from keras import layers

image_shape = (28, 28, 1)
latent_channels = 16


def build_encoder() -> keras.Model:
    inputs = keras.Input(shape=image_shape, name="image")
    x = layers.Conv2D(32, 3, strides=2, padding="same", activation="relu")(inputs)  # (None, 14, 14, 32)
    x = layers.Conv2D(64, 3, strides=2, padding="same", activation="relu")(x)  # (None, 7, 7, 64)
    latent = layers.Conv2D(latent_channels, kernel_size=1, name="latent")(x)  # (None, 7, 7, 16)
    return keras.Model(inputs, latent, name="encoder")


def build_decoder() -> keras.Model:
    latent = keras.Input(shape=(7, 7, latent_channels), name="code")
    x = layers.Conv2DTranspose(64, 3, strides=2, padding="same", activation="relu")(latent)  # (None, 14, 14, 64)
    x = layers.Conv2DTranspose(32, 3, strides=2, padding="same", activation="relu")(x)  # (None, 28, 28, 32)
    outputs = layers.Conv2D(1, 3, padding="same", activation="sigmoid", name="reconstruction")(x)
    return keras.Model(latent, outputs, name="decoder")


def build_autoencoder() -> keras.Model:
    encoder = build_encoder()
    decoder = build_decoder()
    inputs = keras.Input(shape=image_shape)
    return keras.Model(inputs, decoder(encoder(inputs)), name="autoencoder")


if __name__ == "__main__":
    autoencoder = build_autoencoder()
    autoencoder.compile(optimizer="adam", loss="binary_crossentropy")
    autoencoder.summary()
