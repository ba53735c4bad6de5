using System;
using System.CommandLine;
using System.Globalization;
using FlowMap.Reconstruction;
using FlowMap.Session;

namespace FlowMap.Viewer.Cli
{
    /// <summary>The live-pipeline options shared by `record`, `replay` and `view INPUT`: --size, --focal, --depth-model.</summary>
    internal sealed class PipelineCliOptions
    {
        private readonly Option<string?> _size = new Option<string?>("--size") { Description = "Processing size WxH (default: about 320x240 keeping the aspect ratio)." };
        private readonly Option<double?> _focal = new Option<double?>("--focal") { Description = "Known focal length in input pixels (default: estimated)." };
        private readonly Option<string?> _model = new Option<string?>("--depth-model") { Description = "ONNX monocular depth model used as the depth prior (default: none, depth from flow alone)." };

        private PipelineCliOptions(Command command) { Command = command; }

        public Command Command { get; }

        public static PipelineCliOptions Add(Command command)
        {
            var o = new PipelineCliOptions(command);
            command.Options.Add(o._size);
            command.Options.Add(o._focal);
            command.Options.Add(o._model);
            return o;
        }

        public SessionOptions Read(ParseResult p)
        {
            var s = new SessionOptions { FocalPixels = p.GetValue(_focal), DepthModelPath = p.GetValue(_model) };
            if (p.GetValue(_size) is string size)
                (s.ProcessingWidth, s.ProcessingHeight) = ParseSize(size);
            if (s.DepthModelPath != null && !System.IO.File.Exists(s.DepthModelPath))
                throw new CliException($"Depth model '{s.DepthModelPath}' does not exist.");
            try { s.Validate(); }
            catch (ArgumentException e) { throw new CliException(e.Message, 2, e); }
            return s;
        }

        /// <summary>Largest processing width or height (the library's rule).</summary>
        public const int MaxProcessingSide = ImageResampler.MaxProcessingSide;

        public static (int W, int H) ParseSize(string text)
        {
            var parts = text.ToLowerInvariant().Split('x');
            if (parts.Length == 2 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int w)
                                  && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int h)
                                  && ImageResampler.CheckProcessingSize(w, h) == null)
                return (w, h);
            throw new CliException($"--size '{text}': expected WxH, each from {ImageResampler.MinProcessingSide} to {MaxProcessingSide} (e.g. 320x240).");
        }
    }
}
