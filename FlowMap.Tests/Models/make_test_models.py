#!/usr/bin/python3
"""Writes the tiny ONNX models the tests run through ONNX Runtime (Debian python3-onnx 1.12, no network, no weights).

Usage: make_test_models.py OUT_DIR

Depth models take float32 image[1, 3, H, W] (normalised RGB) and return relative inverse depth:
  depth_dynamic.onnx      dynamic H, W; metadata flowmap.preset = depth-anything-v2; out[1, H, W] =
                          |3x3 average of the channel mean| + 0.1 (positive, varies with the image)
  depth_midas256.onnx     fixed 1x3x256x256 (the MiDaS v2.1 small shape, no metadata); out[1, 256, 256]
  depth_wrong_rank.onnx   input rank 3 (3, H, W): must be refused
  depth_wrong_output.onnx out[1, 3, H, W] (three channels): must be refused
  depth_nan.onnx          out = 0 / 0 (NaN everywhere): must be refused
Flow models take image1, image2 float32[1, 3, H, W] (RGB in [0, 255], RAFT convention) and return flow[1, 2, H, W]:
  flow_dynamic.onnx       u = v = 0.01 * mean_c(image1 - image2) (so swapping the inputs negates the flow)
  flow_one_input.onnx     a single input: must be refused
"""
import os
import sys

import onnx
from onnx import TensorProto, helper

OPSET = [helper.make_opsetid("", 13)]


def save(graph, path, metadata=None):
    model = helper.make_model(graph, opset_imports=OPSET, producer_name="flowmap-tests")
    model.ir_version = 7  # readable by every ONNX Runtime since 1.3
    if metadata:
        for k, v in metadata.items():
            entry = model.metadata_props.add()
            entry.key, entry.value = k, v
    onnx.checker.check_model(model)
    onnx.save(model, path)


def const(name, value):
    return helper.make_node("Constant", [], [name], value=helper.make_tensor(name + "_t", TensorProto.FLOAT, [], [value]))


def depth_graph(in_shape, out_shape, nan=False, three_channels=False):
    nodes = [
        helper.make_node("AveragePool", ["image"], ["pooled"], kernel_shape=[3, 3], pads=[1, 1, 1, 1],
                         count_include_pad=0),
    ]
    if three_channels:
        nodes += [helper.make_node("Abs", ["pooled"], ["depth"])]
    elif nan:
        nodes += [helper.make_node("ReduceMean", ["pooled"], ["m"], axes=[1], keepdims=0),
                  helper.make_node("Sub", ["m", "m"], ["z"]),
                  helper.make_node("Div", ["z", "z"], ["depth"])]
    else:
        nodes += [helper.make_node("ReduceMean", ["pooled"], ["m"], axes=[1], keepdims=0),
                  helper.make_node("Abs", ["m"], ["a"]),
                  const("eps", 0.1),
                  helper.make_node("Add", ["a", "eps"], ["depth"])]
    return helper.make_graph(nodes, "depth",
                             [helper.make_tensor_value_info("image", TensorProto.FLOAT, in_shape)],
                             [helper.make_tensor_value_info("depth", TensorProto.FLOAT, out_shape)])


def wrong_rank_graph():
    nodes = [helper.make_node("ReduceMean", ["image"], ["depth"], axes=[0], keepdims=0)]
    return helper.make_graph(nodes, "depth_rank3",
                             [helper.make_tensor_value_info("image", TensorProto.FLOAT, [3, "H", "W"])],
                             [helper.make_tensor_value_info("depth", TensorProto.FLOAT, ["H", "W"])])


def flow_graph(two_inputs=True):
    if two_inputs:
        nodes = [helper.make_node("Sub", ["image1", "image2"], ["d"]),
                 helper.make_node("ReduceMean", ["d"], ["m"], axes=[1], keepdims=1),
                 const("k", 0.01),
                 helper.make_node("Mul", ["m", "k"], ["s"]),
                 helper.make_node("Concat", ["s", "s"], ["flow"], axis=1)]
        inputs = [helper.make_tensor_value_info("image1", TensorProto.FLOAT, [1, 3, "H", "W"]),
                  helper.make_tensor_value_info("image2", TensorProto.FLOAT, [1, 3, "H", "W"])]
    else:
        nodes = [helper.make_node("ReduceMean", ["image1"], ["m"], axes=[1], keepdims=1),
                 helper.make_node("Concat", ["m", "m"], ["flow"], axis=1)]
        inputs = [helper.make_tensor_value_info("image1", TensorProto.FLOAT, [1, 3, "H", "W"])]
    return helper.make_graph(nodes, "flow", inputs,
                             [helper.make_tensor_value_info("flow", TensorProto.FLOAT, [1, 2, "H", "W"])])


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "."
    os.makedirs(out, exist_ok=True)
    p = lambda n: os.path.join(out, n)
    save(depth_graph([1, 3, "H", "W"], [1, "H", "W"]), p("depth_dynamic.onnx"), {"flowmap.preset": "depth-anything-v2"})
    save(depth_graph([1, 3, 256, 256], [1, 256, 256]), p("depth_midas256.onnx"))
    save(wrong_rank_graph(), p("depth_wrong_rank.onnx"))
    save(depth_graph([1, 3, "H", "W"], [1, 3, "H", "W"], three_channels=True), p("depth_wrong_output.onnx"))
    save(depth_graph([1, 3, "H", "W"], [1, "H", "W"], nan=True), p("depth_nan.onnx"))
    save(flow_graph(), p("flow_dynamic.onnx"))
    save(flow_graph(two_inputs=False), p("flow_one_input.onnx"))


if __name__ == "__main__":
    main()
