using System;
using System.IO;
using FlowMap.Flow;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Flow
{
    public sealed class OnnxFlowEstimatorTests
    {
        private static RgbImage Flat(int w, int h, byte v)
        {
            var img = new RgbImage(w, h);
            Array.Fill(img.Pixels, v);
            return img;
        }

        [Fact]
        public void Runs_both_directions_and_confidence_follows_consistency()
        {
            using var est = new OnnxFlowEstimator(TestModels.Path("flow_dynamic.onnx"));
            Assert.StartsWith("onnx:", est.Name);
            // The model returns u = v = 0.01 * mean(a - b) (0..255 inputs): 0.01 * 100 = 1 px forward, -1 px backward.
            var r = est.Estimate(Flat(33, 21, 150), Flat(33, 21, 50));
            Assert.Equal(33, r.Width); Assert.Equal(21, r.Height);
            Assert.Equal(1.0, r.Forward.U(5, 5), 4); Assert.Equal(1.0, r.Forward.V(5, 5), 4);
            Assert.Equal(-1.0, r.Backward.U(5, 5), 4);
            // Consistent in the interior; points that leave the image (last column/row forward) get zero confidence.
            Assert.True(r.ForwardConfidence[10, 10] > 0.99f);
            Assert.Equal(0f, r.ForwardConfidence[32, 10]);
            Assert.Equal(0f, r.BackwardConfidence[0, 10]);
        }

        [Fact]
        public void Inconsistent_flow_gets_low_confidence()
        {
            var f = new FlowField(20, 10); var g = new FlowField(20, 10);
            for (int i = 0; i < 200; i++) { f.Data[2 * i] = 2; g.Data[2 * i] = 2; } // backward should be -2, is +2: error 4 px
            var c = OnnxFlowEstimator.ForwardBackwardConfidence(f, g);
            Assert.True(c[5, 5] < 0.05f, $"confidence {c[5, 5]}");
            for (int i = 0; i < 200; i++) g.Data[2 * i] = -2;
            c = OnnxFlowEstimator.ForwardBackwardConfidence(f, g);
            Assert.True(c[5, 5] > 0.99f);
        }

        [Fact]
        public void Model_with_one_input_is_refused()
        {
            var e = Assert.Throws<InvalidDataException>(() => new OnnxFlowEstimator(TestModels.Path("flow_one_input.onnx")));
            Assert.Contains("flow_one_input.onnx", e.Message);
            Assert.Contains("two images", e.Message);
        }

        [Fact]
        public void Depth_model_is_refused_as_a_flow_model()
        {
            var e = Assert.Throws<InvalidDataException>(() => new OnnxFlowEstimator(TestModels.Path("depth_dynamic.onnx")));
            Assert.Contains("depth_dynamic.onnx", e.Message);
        }

        [Fact]
        public void Missing_file_and_mismatched_images_are_clear_errors()
        {
            Assert.Throws<FileNotFoundException>(() => new OnnxFlowEstimator("missing_flow.onnx"));
            using var est = new OnnxFlowEstimator(TestModels.Path("flow_dynamic.onnx"));
            Assert.Throws<ArgumentException>(() => est.Estimate(Flat(10, 10, 1), Flat(11, 10, 1)));
        }
    }
}
