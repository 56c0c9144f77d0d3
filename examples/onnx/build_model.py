"""Builds a small ONNX model by hand: a strided Conv that halves the image, then a ConvTranspose
that doubles it back, and lets ONNX's shape inference report the sizes.

ONNX weights are laid out differently for the two operators:
  Conv           W: (out_channels, in_channels / group, kH, kW)
  ConvTranspose  W: (in_channels, out_channels / group, kH, kW)
and ConvTranspose's output size follows
  out = stride * (in - 1) + output_padding + ((kernel - 1) * dilation + 1) - pad_begin - pad_end.
"""

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(0)


def weights(name: str, shape: tuple[int, ...]) -> onnx.TensorProto:
    return numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32), name=name)


def build() -> onnx.ModelProto:
    image = helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 64, 64])
    restored = helper.make_tensor_value_info("restored", TensorProto.FLOAT, None)

    nodes = [
        # (1, 3, 64, 64) -> (1, 16, 32, 32): kernel 3, stride 2, one pixel of padding on each side.
        helper.make_node(
            "Conv",
            inputs=["image", "down_w", "down_b"],
            outputs=["features"],
            name="down",
            kernel_shape=[3, 3],
            strides=[2, 2],
            pads=[1, 1, 1, 1],
        ),
        helper.make_node("Relu", inputs=["features"], outputs=["features_relu"], name="relu"),
        # (1, 16, 32, 32) -> (1, 3, 64, 64): 2 * (32 - 1) + 1 + 3 - 1 - 1 = 64.
        helper.make_node(
            "ConvTranspose",
            inputs=["features_relu", "up_w", "up_b"],
            outputs=["restored"],
            name="up",
            kernel_shape=[3, 3],
            strides=[2, 2],
            pads=[1, 1, 1, 1],
            output_padding=[1, 1],
        ),
    ]
    initializers = [
        weights("down_w", (16, 3, 3, 3)),
        weights("down_b", (16,)),
        weights("up_w", (16, 3, 3, 3)),
        weights("up_b", (3,)),
    ]
    graph = helper.make_graph(nodes, "down_up", [image], [restored], initializer=initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="conv-lens-example")
    onnx.checker.check_model(model)
    return model


if __name__ == "__main__":
    model = onnx.shape_inference.infer_shapes(build())
    for value in [*model.graph.value_info, *model.graph.output]:
        dims = [d.dim_value for d in value.type.tensor_type.shape.dim]
        print(f"{value.name}: {dims}")
    onnx.save(model, "down_up.onnx")
