using System;
using System.IO;
using FlowMap.Depth;
using FlowMap.Tests.Support;
using Xunit;

namespace FlowMap.Tests.Depth
{
    public sealed class OnnxDepthPriorTests
    {
        private static RgbImage Image(int w, int h)
        {
            var img = new RgbImage(w, h);
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    int o = 3 * (y * w + x);
                    img.Pixels[o] = (byte)(x * 255 / (w - 1));
                    img.Pixels[o + 1] = (byte)(y * 255 / (h - 1));
                    img.Pixels[o + 2] = 128;
                }
            return img;
        }

        /// <summary>What the generated model computes: |3x3 mean of the ImageNet-normalised channel mean| + 0.1, at the input size.</summary>
        private static double Expected(RgbImage img, int x, int y)
        {
            double[] mean = { 0.485, 0.456, 0.406 }, std = { 0.229, 0.224, 0.225 };
            double s = 0; int n = 0;
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++)
                {
                    int xx = x + dx, yy = y + dy;
                    if (xx < 0 || yy < 0 || xx >= img.Width || yy >= img.Height) continue;
                    double m = 0;
                    for (int c = 0; c < 3; c++) m += (img.Pixels[3 * (yy * img.Width + xx) + c] / 255.0 - mean[c]) / std[c];
                    s += m / 3; n++;
                }
            return Math.Abs(s / n) + 0.1;
        }

        [Fact]
        public void Dynamic_model_reads_its_preset_from_metadata_and_matches_the_reference()
        {
            using var prior = new OnnxDepthPrior(TestModels.Path("depth_dynamic.onnx"));
            Assert.Equal(DepthModelPreset.DepthAnythingV2, prior.Preset);
            Assert.Contains("depth-anything-v2", prior.Name);
            // 28x14 in: dynamic input at the Depth Anything size (shorter side 518, multiples of 14) = 1036x518.
            Assert.Equal((1036, 518), prior.InputSizeFor(28, 14));
            // Use an explicit preset size check on a frame whose model input equals the frame: 518x518 is its own input size.
            var img = Image(518, 518);
            var d = prior.PredictInverseDepth(img, 518, 518);
            Assert.Equal(518, d.Width);
            foreach (var (x, y) in new[] { (0, 0), (100, 37), (517, 517), (250, 400) })
                Assert.Equal(Expected(img, x, y), d[x, y], 3);
            foreach (var v in d.Data) Assert.True(v > 0 && float.IsFinite(v));
        }

        [Fact]
        public void Fixed_256_model_is_inferred_as_midas_and_output_is_resampled_to_the_requested_size()
        {
            using var prior = new OnnxDepthPrior(TestModels.Path("depth_midas256.onnx"));
            Assert.Equal(DepthModelPreset.MidasV21Small, prior.Preset);
            Assert.Equal((256, 256), prior.InputSizeFor(640, 480));
            var d = prior.PredictInverseDepth(Image(64, 48), 40, 30);
            Assert.Equal(40, d.Width); Assert.Equal(30, d.Height);
            // Left-to-right red ramp: the output must vary across the image and stay positive.
            Assert.NotEqual(d[0, 15], d[39, 15]);
            foreach (var v in d.Data) Assert.True(v > 0 && float.IsFinite(v));
        }

        [Fact]
        public void Explicit_preset_overrides_inference()
        {
            using var prior = new OnnxDepthPrior(TestModels.Path("depth_midas256.onnx"), DepthModelPreset.DepthAnythingV2);
            Assert.Equal(DepthModelPreset.DepthAnythingV2, prior.Preset);
            Assert.Equal(DepthModelPreset.MidasV21Small, OnnxDepthPrior.ParsePreset("midas"));
            Assert.Throws<ArgumentException>(() => OnnxDepthPrior.ParsePreset("resnet"));
        }

        [Fact]
        public void Missing_file_is_a_clear_error()
        {
            var e = Assert.Throws<FileNotFoundException>(() => new OnnxDepthPrior("no_such_model.onnx"));
            Assert.Contains("no_such_model.onnx", e.Message);
        }

        [Fact]
        public void Wrong_input_rank_is_refused_naming_the_model_and_the_expected_shape()
        {
            var e = Assert.Throws<InvalidDataException>(() => new OnnxDepthPrior(TestModels.Path("depth_wrong_rank.onnx")));
            Assert.Contains("depth_wrong_rank.onnx", e.Message);
            Assert.Contains("[1, 3, H, W]", e.Message);
        }

        [Fact]
        public void Three_channel_output_is_refused()
        {
            var e = Assert.Throws<InvalidDataException>(() => new OnnxDepthPrior(TestModels.Path("depth_wrong_output.onnx")));
            Assert.Contains("depth_wrong_output.onnx", e.Message);
            Assert.Contains("[1, H, W]", e.Message);
        }

        [Fact]
        public void NaN_output_is_refused_when_the_model_is_opened()
        {
            var e = Assert.Throws<InvalidOperationException>(() => new OnnxDepthPrior(TestModels.Path("depth_nan.onnx")));
            Assert.Contains("depth_nan.onnx", e.Message);
            Assert.Contains("NaN", e.Message);
        }

        [Fact]
        public void A_flow_model_is_not_accepted_as_a_depth_model()
        {
            var e = Assert.Throws<InvalidDataException>(() => new OnnxDepthPrior(TestModels.Path("flow_dynamic.onnx")));
            Assert.Contains("2 inputs", e.Message);
        }

        [Fact]
        public void Corrupt_file_is_a_clear_error()
        {
            var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "flowmap-corrupt-" + Guid.NewGuid().ToString("N") + ".onnx");
            File.WriteAllBytes(path, new byte[] { 1, 2, 3, 4, 5, 6, 7, 8, 9 });
            try
            {
                var e = Assert.Throws<InvalidDataException>(() => new OnnxDepthPrior(path));
                Assert.Contains("cannot be loaded", e.Message);
            }
            finally { File.Delete(path); }
        }

        [Fact]
        public void Async_prediction_equals_the_synchronous_one()
        {
            using var prior = new OnnxDepthPrior(TestModels.Path("depth_midas256.onnx"));
            var img = Image(50, 40);
            var a = prior.PredictInverseDepth(img, 25, 20);
            var b = prior.PredictAsync(img, 25, 20).GetAwaiter().GetResult();
            Assert.Equal(a.Data, b.Data);
        }
    }
}
