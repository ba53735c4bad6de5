using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using FlowMap.Viewer.Scenes;
using FlowMap.Gpu;
using Silk.NET.Vulkan;
using VkBuffer = Silk.NET.Vulkan.Buffer;

namespace FlowMap.Viewer.Rendering
{
    /// <summary>
    /// Draws a <see cref="ViewerSnapshot"/> into a framebuffer of its render pass: line layers (grid, axes, trajectory,
    /// frustums), the point cloud as depth-sized splats from one append-only vertex buffer, then the overlay (inset images
    /// and text). The same renderer serves the offscreen target and the swapchain (one instance per colour format).
    /// Per-frame vertex data (lines, overlay) lives in one host-visible buffer per frame slot, grown when too small;
    /// the caller guarantees a slot's previous frame finished before recording into it again.
    /// </summary>
    internal sealed unsafe class SceneRenderer : IDisposable
    {
        private readonly RenderDevice _dev;
        private readonly Vk _vk;
        public RenderPass RenderPass { get; }
        public Format DepthFormat { get; }
        public Format ColorFormat { get; }

        private readonly PipelineLayout _sceneLayout, _overlayLayout;
        private readonly DescriptorSetLayout _texLayout;
        private readonly Pipeline _points, _lines, _overlay;
        private readonly Dictionary<int, Pipeline> _strided = new Dictionary<int, Pipeline>();
        private readonly DescriptorPool _pool;
        private readonly DescriptorSet _fontSet, _insetSet;
        private readonly Sampler _sampler;
        private readonly Texture _font;
        private Texture? _inset;
        private Texture _blank;
        private long _insetVersion = long.MinValue;

        private readonly GrowableVertexBuffer<ColorVertex> _pointBuffer;
        private long _pointsGeneration = long.MinValue;
        private int _chunksUploaded;
        private readonly List<(double X, double Y, double Z)> _sample = new List<(double, double, double)>();
        private int _sampledPoints, _pointsAtBounds = -1, _camsAtBounds = -1;
        private ColorVertex[] _convert = Array.Empty<ColorVertex>();

        private readonly FrameSlot[] _slots;
        private readonly List<ColorVertex> _lineScratch = new List<ColorVertex>();
        private readonly List<OverlayVertex> _insetScratch = new List<OverlayVertex>();
        private readonly List<OverlayVertex> _textScratch = new List<OverlayVertex>();

        private sealed class FrameSlot
        {
            public DeviceBuffer? Lines, Overlay;
            // Compute point rasteriser: per-pixel depth and colour, and the descriptor set binding them with the points.
            public DeviceBuffer? Depth, Color;
            public DescriptorSet RasterSet;
            public ulong BoundPoints;
        }

        private readonly DescriptorSetLayout _rasterSetLayout;
        private readonly PipelineLayout _rasterLayout, _resolveLayout;
        private readonly Pipeline _raster, _resolve;
        private readonly DescriptorPool _rasterPool;

        public SceneBounds Bounds { get; private set; } = new SceneBounds((0, 0, 1), 1, 1);
        public int PointCount => _pointBuffer.Count;
        public int PointBufferReallocations => _pointBuffer.Reallocations;
        /// <summary>How the last frame drew its points.</summary>
        public PointMode LastPointMode { get; private set; }
        /// <summary>1 in how many points the last frame drew (see <see cref="RenderSettings.PointBudget"/>).</summary>
        public int LastPointStride { get; private set; } = 1;

        public SceneRenderer(RenderDevice dev, Format colorFormat, ImageLayout finalLayout, int frameSlots)
        {
            _dev = dev;
            _vk = dev.Vk;
            ColorFormat = colorFormat;
            DepthFormat = RenderTargets.DepthFormat(dev);
            RenderPass = RenderTargets.CreateRenderPass(dev, colorFormat, DepthFormat, finalLayout);
            _slots = Enumerable.Range(0, frameSlots).Select(_ => new FrameSlot()).ToArray();
            _pointBuffer = new GrowableVertexBuffer<ColorVertex>(dev, hostVisible: false);

            // Layouts: points and lines share an 80-byte vertex push block; the overlay has one texture and its viewport size.
            var scenePush = new PushConstantRange(ShaderStageFlags.VertexBit, 0, ScenePush.SceneBytes);
            var sli = new PipelineLayoutCreateInfo { SType = StructureType.PipelineLayoutCreateInfo, PushConstantRangeCount = 1, PPushConstantRanges = &scenePush };
            PipelineLayout sl;
            _vk.CreatePipelineLayout(dev.Device, &sli, null, &sl).Check("vkCreatePipelineLayout(scene)");
            _sceneLayout = sl;

            var binding = new DescriptorSetLayoutBinding
            {
                Binding = 0, DescriptorType = DescriptorType.CombinedImageSampler, DescriptorCount = 1, StageFlags = ShaderStageFlags.FragmentBit,
            };
            var dli = new DescriptorSetLayoutCreateInfo { SType = StructureType.DescriptorSetLayoutCreateInfo, BindingCount = 1, PBindings = &binding };
            DescriptorSetLayout dl;
            _vk.CreateDescriptorSetLayout(dev.Device, &dli, null, &dl).Check("vkCreateDescriptorSetLayout");
            _texLayout = dl;
            var overlayPush = new PushConstantRange(ShaderStageFlags.VertexBit, 0, 8);
            var oli = new PipelineLayoutCreateInfo
            {
                SType = StructureType.PipelineLayoutCreateInfo, SetLayoutCount = 1, PSetLayouts = &dl, PushConstantRangeCount = 1, PPushConstantRanges = &overlayPush,
            };
            PipelineLayout ol;
            _vk.CreatePipelineLayout(dev.Device, &oli, null, &ol).Check("vkCreatePipelineLayout(overlay)");
            _overlayLayout = ol;

            _points = CreatePipeline("points", PrimitiveTopology.PointList, _sceneLayout, overlay: false);
            _lines = CreatePipeline("lines", PrimitiveTopology.LineList, _sceneLayout, overlay: false);
            _overlay = CreatePipeline("overlay", PrimitiveTopology.TriangleList, _overlayLayout, overlay: true);

            // Compute point rasteriser: points, per-pixel depth and colour as storage buffers; one set per frame slot.
            var rb = stackalloc DescriptorSetLayoutBinding[3];
            for (uint i = 0; i < 3; i++)
                rb[i] = new DescriptorSetLayoutBinding
                {
                    Binding = i, DescriptorType = DescriptorType.StorageBuffer, DescriptorCount = 1,
                    StageFlags = ShaderStageFlags.ComputeBit | ShaderStageFlags.FragmentBit,
                };
            var rli = new DescriptorSetLayoutCreateInfo { SType = StructureType.DescriptorSetLayoutCreateInfo, BindingCount = 3, PBindings = rb };
            DescriptorSetLayout rsl;
            _vk.CreateDescriptorSetLayout(dev.Device, &rli, null, &rsl).Check("vkCreateDescriptorSetLayout(raster)");
            _rasterSetLayout = rsl;
            var rasterPush = new PushConstantRange(ShaderStageFlags.ComputeBit, 0, ScenePush.RasterBytes);
            var rpl = new PipelineLayoutCreateInfo
            {
                SType = StructureType.PipelineLayoutCreateInfo, SetLayoutCount = 1, PSetLayouts = &rsl, PushConstantRangeCount = 1, PPushConstantRanges = &rasterPush,
            };
            PipelineLayout rl;
            _vk.CreatePipelineLayout(dev.Device, &rpl, null, &rl).Check("vkCreatePipelineLayout(raster)");
            _rasterLayout = rl;
            var resolvePush = new PushConstantRange(ShaderStageFlags.FragmentBit, ScenePush.ResolveOffset, ScenePush.ResolveBytes);
            var vpl = new PipelineLayoutCreateInfo
            {
                SType = StructureType.PipelineLayoutCreateInfo, SetLayoutCount = 1, PSetLayouts = &rsl, PushConstantRangeCount = 1, PPushConstantRanges = &resolvePush,
            };
            PipelineLayout vl;
            _vk.CreatePipelineLayout(dev.Device, &vpl, null, &vl).Check("vkCreatePipelineLayout(resolve)");
            _resolveLayout = vl;
            _raster = CreateComputePipeline("points_raster.comp", _rasterLayout);
            _resolve = CreatePipeline("points_resolve", PrimitiveTopology.TriangleList, _resolveLayout, overlay: false, noVertexInput: true);
            var rps = new DescriptorPoolSize(DescriptorType.StorageBuffer, (uint)(3 * frameSlots));
            var rpci = new DescriptorPoolCreateInfo { SType = StructureType.DescriptorPoolCreateInfo, MaxSets = (uint)frameSlots, PoolSizeCount = 1, PPoolSizes = &rps };
            DescriptorPool rpool;
            _vk.CreateDescriptorPool(dev.Device, &rpci, null, &rpool).Check("vkCreateDescriptorPool(raster)");
            _rasterPool = rpool;
            foreach (var slot in _slots)
            {
                var rai = new DescriptorSetAllocateInfo { SType = StructureType.DescriptorSetAllocateInfo, DescriptorPool = rpool, DescriptorSetCount = 1, PSetLayouts = &rsl };
                DescriptorSet set;
                _vk.AllocateDescriptorSets(dev.Device, &rai, &set).Check("vkAllocateDescriptorSets(raster)");
                slot.RasterSet = set;
            }

            var si = new SamplerCreateInfo
            {
                SType = StructureType.SamplerCreateInfo, MagFilter = Filter.Nearest, MinFilter = Filter.Linear, MipmapMode = SamplerMipmapMode.Nearest,
                AddressModeU = SamplerAddressMode.ClampToEdge, AddressModeV = SamplerAddressMode.ClampToEdge, AddressModeW = SamplerAddressMode.ClampToEdge,
                MaxLod = 0,
            };
            Sampler s;
            _vk.CreateSampler(dev.Device, &si, null, &s).Check("vkCreateSampler");
            _sampler = s;

            var poolSize = new DescriptorPoolSize(DescriptorType.CombinedImageSampler, 2);
            var pci = new DescriptorPoolCreateInfo { SType = StructureType.DescriptorPoolCreateInfo, MaxSets = 2, PoolSizeCount = 1, PPoolSizes = &poolSize };
            DescriptorPool pool;
            _vk.CreateDescriptorPool(dev.Device, &pci, null, &pool).Check("vkCreateDescriptorPool");
            _pool = pool;
            var layouts = stackalloc DescriptorSetLayout[2] { dl, dl };
            var sets = stackalloc DescriptorSet[2];
            var ai = new DescriptorSetAllocateInfo { SType = StructureType.DescriptorSetAllocateInfo, DescriptorPool = pool, DescriptorSetCount = 2, PSetLayouts = layouts };
            _vk.AllocateDescriptorSets(dev.Device, &ai, sets).Check("vkAllocateDescriptorSets");
            _fontSet = sets[0];
            _insetSet = sets[1];

            _font = new Texture(dev, BitmapFont.AtlasWidth, BitmapFont.AtlasHeight);
            _font.Upload(BitmapFont.BuildAtlas());
            WriteSet(_fontSet, _font);
            _blank = new Texture(dev, 1, 1);
            _blank.Upload(new byte[] { 0, 0, 0, 0 });
            WriteSet(_insetSet, _blank);
        }

        /// <summary>
        /// The points pipeline reading every <paramref name="stride"/>-th vertex (the vertex binding's stride is a multiple of
        /// the vertex size): a level of detail that draws a uniform subset of the one vertex buffer without copying it.
        /// </summary>
        private Pipeline PointsPipeline(int stride)
        {
            if (stride == 1) return _points;
            if (!_strided.TryGetValue(stride, out var p))
                _strided[stride] = p = CreatePipeline("points", PrimitiveTopology.PointList, _sceneLayout, overlay: false, vertexStride: stride);
            return p;
        }

        /// <summary>Every how many points are drawn to stay within <paramref name="budget"/> (a power of two, 1 = all).</summary>
        public static int PointStride(int count, int budget)
        {
            if (budget <= 0 || count <= budget) return 1;
            int k = 2;
            while (k < 256 && (long)k * budget < count) k *= 2;
            return k;
        }

        private Pipeline CreateComputePipeline(string name, PipelineLayout layout)
        {
            var module = _dev.LoadShader(name);
            var entry = (byte*)Marshal.StringToHGlobalAnsi("main");
            try
            {
                var ci = new ComputePipelineCreateInfo
                {
                    SType = StructureType.ComputePipelineCreateInfo, Layout = layout,
                    Stage = new PipelineShaderStageCreateInfo { SType = StructureType.PipelineShaderStageCreateInfo, Stage = ShaderStageFlags.ComputeBit, Module = module, PName = entry },
                };
                Pipeline p;
                _vk.CreateComputePipelines(_dev.Device, default, 1, &ci, null, &p).Check($"vkCreateComputePipelines({name})");
                return p;
            }
            finally
            {
                Marshal.FreeHGlobal((IntPtr)entry);
                _vk.DestroyShaderModule(_dev.Device, module, null);
            }
        }

        private Pipeline CreatePipeline(string name, PrimitiveTopology topology, PipelineLayout layout, bool overlay, int vertexStride = 1, bool noVertexInput = false)
        {
            var vert = _dev.LoadShader(name + ".vert");
            var frag = _dev.LoadShader(name + ".frag");
            var entry = (byte*)Marshal.StringToHGlobalAnsi("main");
            try
            {
                var stages = stackalloc PipelineShaderStageCreateInfo[2];
                stages[0] = new PipelineShaderStageCreateInfo { SType = StructureType.PipelineShaderStageCreateInfo, Stage = ShaderStageFlags.VertexBit, Module = vert, PName = entry };
                stages[1] = new PipelineShaderStageCreateInfo { SType = StructureType.PipelineShaderStageCreateInfo, Stage = ShaderStageFlags.FragmentBit, Module = frag, PName = entry };

                var vb = new VertexInputBindingDescription(0, (uint)(overlay ? sizeof(OverlayVertex) : sizeof(ColorVertex) * vertexStride), VertexInputRate.Vertex);
                var attrs = stackalloc VertexInputAttributeDescription[3];
                uint attrCount;
                if (overlay)
                {
                    attrs[0] = new VertexInputAttributeDescription(0, 0, Format.R32G32Sfloat, 0);
                    attrs[1] = new VertexInputAttributeDescription(1, 0, Format.R32G32Sfloat, 8);
                    attrs[2] = new VertexInputAttributeDescription(2, 0, Format.R8G8B8A8Unorm, 16);
                    attrCount = 3;
                }
                else
                {
                    attrs[0] = new VertexInputAttributeDescription(0, 0, Format.R32G32B32Sfloat, 0);
                    attrs[1] = new VertexInputAttributeDescription(1, 0, Format.R8G8B8A8Unorm, 12);
                    attrCount = 2;
                }
                var vi = noVertexInput
                    ? new PipelineVertexInputStateCreateInfo { SType = StructureType.PipelineVertexInputStateCreateInfo }
                    : new PipelineVertexInputStateCreateInfo
                    {
                        SType = StructureType.PipelineVertexInputStateCreateInfo, VertexBindingDescriptionCount = 1, PVertexBindingDescriptions = &vb,
                        VertexAttributeDescriptionCount = attrCount, PVertexAttributeDescriptions = attrs,
                    };
                var ia = new PipelineInputAssemblyStateCreateInfo { SType = StructureType.PipelineInputAssemblyStateCreateInfo, Topology = topology };
                var vp = new PipelineViewportStateCreateInfo { SType = StructureType.PipelineViewportStateCreateInfo, ViewportCount = 1, ScissorCount = 1 };
                var rs = new PipelineRasterizationStateCreateInfo
                {
                    SType = StructureType.PipelineRasterizationStateCreateInfo, PolygonMode = PolygonMode.Fill, CullMode = CullModeFlags.None,
                    FrontFace = FrontFace.CounterClockwise, LineWidth = 1f,
                };
                var ms = new PipelineMultisampleStateCreateInfo { SType = StructureType.PipelineMultisampleStateCreateInfo, RasterizationSamples = SampleCountFlags.Count1Bit };
                var ds = new PipelineDepthStencilStateCreateInfo
                {
                    SType = StructureType.PipelineDepthStencilStateCreateInfo, DepthTestEnable = !overlay, DepthWriteEnable = !overlay,
                    DepthCompareOp = CompareOp.LessOrEqual,
                };
                var blend = new PipelineColorBlendAttachmentState
                {
                    BlendEnable = overlay,
                    SrcColorBlendFactor = BlendFactor.SrcAlpha, DstColorBlendFactor = BlendFactor.OneMinusSrcAlpha, ColorBlendOp = BlendOp.Add,
                    SrcAlphaBlendFactor = BlendFactor.One, DstAlphaBlendFactor = BlendFactor.OneMinusSrcAlpha, AlphaBlendOp = BlendOp.Add,
                    ColorWriteMask = ColorComponentFlags.RBit | ColorComponentFlags.GBit | ColorComponentFlags.BBit | ColorComponentFlags.ABit,
                };
                var cb = new PipelineColorBlendStateCreateInfo { SType = StructureType.PipelineColorBlendStateCreateInfo, AttachmentCount = 1, PAttachments = &blend };
                var dyn = stackalloc DynamicState[2] { DynamicState.Viewport, DynamicState.Scissor };
                var dy = new PipelineDynamicStateCreateInfo { SType = StructureType.PipelineDynamicStateCreateInfo, DynamicStateCount = 2, PDynamicStates = dyn };
                var ci = new GraphicsPipelineCreateInfo
                {
                    SType = StructureType.GraphicsPipelineCreateInfo, StageCount = 2, PStages = stages, PVertexInputState = &vi, PInputAssemblyState = &ia,
                    PViewportState = &vp, PRasterizationState = &rs, PMultisampleState = &ms, PDepthStencilState = &ds, PColorBlendState = &cb,
                    PDynamicState = &dy, Layout = layout, RenderPass = RenderPass, Subpass = 0,
                };
                Pipeline p;
                _vk.CreateGraphicsPipelines(_dev.Device, default, 1, &ci, null, &p).Check($"vkCreateGraphicsPipelines({name})");
                return p;
            }
            finally
            {
                Marshal.FreeHGlobal((IntPtr)entry);
                _vk.DestroyShaderModule(_dev.Device, vert, null);
                _vk.DestroyShaderModule(_dev.Device, frag, null);
            }
        }

        private void WriteSet(DescriptorSet set, Texture tex)
        {
            var info = new DescriptorImageInfo(_sampler, tex.View, ImageLayout.ShaderReadOnlyOptimal);
            var w = new WriteDescriptorSet
            {
                SType = StructureType.WriteDescriptorSet, DstSet = set, DstBinding = 0, DescriptorCount = 1,
                DescriptorType = DescriptorType.CombinedImageSampler, PImageInfo = &info,
            };
            _vk.UpdateDescriptorSets(_dev.Device, 1, &w, 0, null);
        }

        /// <summary>
        /// Brings GPU data up to the snapshot: appends new point chunks (re-uploads all when the generation changed) and
        /// replaces the inset texture when its version changed (that waits for the device to go idle). Call between frames.
        /// </summary>
        public void Sync(ViewerSnapshot s)
        {
            if (s.PointsGeneration != _pointsGeneration)
            {
                _pointsGeneration = s.PointsGeneration;
                _dev.WaitIdle();
                _pointBuffer.Clear();
                _chunksUploaded = 0;
                _sample.Clear();
                _sampledPoints = 0;
                _pointsAtBounds = -1;
            }
            for (; _chunksUploaded < s.PointChunks.Count; _chunksUploaded++)
                AppendChunk(s.PointChunks[_chunksUploaded]);

            // Bounds: recomputed when points grew by a quarter or the trajectory changed length.
            int cams = s.Trajectory.Count;
            if (_pointsAtBounds < 0 || _pointBuffer.Count > _pointsAtBounds * 1.25 + 100 || (cams != _camsAtBounds && (cams < 64 || cams % 16 == 0)))
            {
                var all = new List<(double, double, double)>(_sample);
                foreach (var p in s.Trajectory) all.Add(p.Center);
                Bounds = SceneBounds.Of(all);
                _pointsAtBounds = _pointBuffer.Count;
                _camsAtBounds = cams;
            }

            if (s.InsetVersion != _insetVersion)
            {
                _insetVersion = s.InsetVersion;
                var strip = ColorMaps.ComposeInset(s.Image, s.Depth, s.Flow, 180);
                _dev.WaitIdle();
                if (strip == null)
                {
                    WriteSet(_insetSet, _blank);
                    _inset?.Dispose();
                    _inset = null;
                }
                else
                {
                    var (rgba, w, h) = strip.Value;
                    if (_inset == null || _inset.Width != w || _inset.Height != h)
                    {
                        _inset?.Dispose();
                        _inset = new Texture(_dev, w, h);
                    }
                    _inset.Upload(rgba);
                    WriteSet(_insetSet, _inset);
                }
            }
        }

        private void AppendChunk(PointCloud c)
        {
            int n = c.Count;
            if (n == 0) return;
            if (_convert.Length < n) _convert = new ColorVertex[Math.Max(n, 1 << 16)];
            var pos = c.Positions;
            var col = c.Colors;
            int kept = 0;
            for (int i = 0; i < n; i++)
            {
                float x = pos[3 * i], y = pos[3 * i + 1], z = pos[3 * i + 2];
                if (!float.IsFinite(x) || !float.IsFinite(y) || !float.IsFinite(z)) continue;
                _convert[kept++] = new ColorVertex(x, y, z, ColorVertex.Pack(col[3 * i], col[3 * i + 1], col[3 * i + 2]));
                // Every 64th point (at most 20k) feeds the bounds.
                if ((_sampledPoints++ & 63) == 0 && _sample.Count < 20000) _sample.Add((x, y, z));
            }
            _pointBuffer.Append(new ReadOnlySpan<ColorVertex>(_convert, 0, kept));
        }

        /// <summary>Splat diameter in world units: the spacing of a cloud of this size spread over the scene's visible surface.</summary>
        public double AutoPointSize()
        {
            int n = Math.Max(1, _pointBuffer.Count);
            // Points spread over roughly the area of a sphere of the scene radius: spacing ~ sqrt(4 pi r^2 / n).
            return 3.0 * Math.Sqrt(4 * Math.PI * Bounds.Radius * Bounds.Radius / n);
        }

        /// <summary>
        /// Records one frame into <paramref name="cb"/> (begin/end render pass included) using frame slot <paramref name="slot"/>.
        /// </summary>
        public void Record(CommandBuffer cb, int slot, Framebuffer fb, uint width, uint height, ViewCamera camera, RenderSettings settings,
            ViewerSnapshot s, IReadOnlyList<string> text)
        {
            // CPU-side geometry for this frame.
            _lineScratch.Clear();
            SceneGeometry.Lines(_lineScratch, s, Bounds, settings);
            _insetScratch.Clear();
            _textScratch.Clear();
            float margin = 8;
            if (settings.ShowInset && _inset != null)
            {
                float maxW = width * 0.6f, maxH = height * 0.28f;
                float scale = Math.Min(1f, Math.Min(maxW / _inset.Width, maxH / _inset.Height));
                float w = _inset.Width * scale, h = _inset.Height * scale;
                SceneGeometry.Quad(_insetScratch, margin, height - margin - h, margin + w, height - margin, 0, 0, 1, 1, ColorVertex.Pack(255, 255, 255));
            }
            if (settings.ShowText && text.Count > 0)
                SceneGeometry.Text(_textScratch, text, margin + 4, margin + 2, height >= 600 ? 2 : 1);

            var fs = _slots[slot];
            EnsureCapacity(ref fs.Lines, (ulong)(_lineScratch.Count * sizeof(ColorVertex)));
            EnsureCapacity(ref fs.Overlay, (ulong)((_insetScratch.Count + _textScratch.Count) * sizeof(OverlayVertex)));
            fs.Lines!.Upload<ColorVertex>(CollectionsMarshal.AsSpan(_lineScratch), 0);
            fs.Overlay!.Upload<OverlayVertex>(CollectionsMarshal.AsSpan(_insetScratch), 0);
            fs.Overlay.Upload<OverlayVertex>(CollectionsMarshal.AsSpan(_textScratch), (ulong)(_insetScratch.Count * sizeof(OverlayVertex)));

            int stride = PointStride(_pointBuffer.Count, settings.PointBudget);
            LastPointStride = stride;
            var push = new ScenePush();
            var vp = camera.ViewProjectionColumnMajor();
            for (int i = 0; i < 16; i++) push.ViewProj[i] = vp[i];
            if (settings.FixedPointPixels > 0)
            {
                push.SizeWorld = 0; push.FocalPx = 0;
                push.MinPx = push.MaxPx = (float)Math.Min(settings.FixedPointPixels, _dev.MaxPointSize);
            }
            else
            {
                // A subset of 1 in k points covers the same surfaces with splats sqrt(k) times wider.
                push.SizeWorld = (float)(AutoPointSize() * settings.PointScale * Math.Sqrt(stride));
                push.FocalPx = (float)camera.Intrinsics.Fy;
                push.MinPx = (float)Math.Min(settings.MinPointPixels, _dev.MaxPointSize);
                push.MaxPx = (float)Math.Min(settings.MaxPointPixels, _dev.MaxPointSize);
            }
            bool compute = settings.PointMode == PointMode.Compute || (settings.PointMode == PointMode.Auto && _dev.DeviceType == PhysicalDeviceType.Cpu);
            LastPointMode = compute ? PointMode.Compute : PointMode.Sprites;
            bool drawPoints = settings.ShowPoints && _pointBuffer.Count >= stride;
            if (compute && drawPoints) RecordRaster(cb, fs, width, height, push, stride);


            var clears = stackalloc ClearValue[2];
            clears[0].Color = new ClearColorValue(settings.Background.R, settings.Background.G, settings.Background.B, 1f);
            clears[1].DepthStencil = new ClearDepthStencilValue(1f, 0);
            var rbi = new RenderPassBeginInfo
            {
                SType = StructureType.RenderPassBeginInfo, RenderPass = RenderPass, Framebuffer = fb,
                RenderArea = new Rect2D(new Offset2D(0, 0), new Extent2D(width, height)), ClearValueCount = 2, PClearValues = clears,
            };
            _vk.CmdBeginRenderPass(cb, &rbi, SubpassContents.Inline);
            var viewport = new Viewport(0, 0, width, height, 0, 1);
            var scissor = new Rect2D(new Offset2D(0, 0), new Extent2D(width, height));
            _vk.CmdSetViewport(cb, 0, 1, &viewport);
            _vk.CmdSetScissor(cb, 0, 1, &scissor);

            ulong zero = 0;
            if (_lineScratch.Count > 0)
            {
                _vk.CmdBindPipeline(cb, PipelineBindPoint.Graphics, _lines);
                _vk.CmdPushConstants(cb, _sceneLayout, ShaderStageFlags.VertexBit, 0, ScenePush.SceneBytes, &push);
                var buf = fs.Lines.Buffer;
                _vk.CmdBindVertexBuffers(cb, 0, 1, &buf, &zero);
                _vk.CmdDraw(cb, (uint)_lineScratch.Count, 1, 0, 0);
            }
            if (drawPoints && compute)
            {
                _vk.CmdBindPipeline(cb, PipelineBindPoint.Graphics, _resolve);
                var set = fs.RasterSet;
                _vk.CmdBindDescriptorSets(cb, PipelineBindPoint.Graphics, _resolveLayout, 0, 1, &set, 0, null);
                var rp = push;
                rp.MaxPx = Math.Min(rp.MaxPx, MaxComputePointPixels);
                rp.MinPx = Math.Min(rp.MinPx, rp.MaxPx);
                rp.Dims[0] = width; rp.Dims[1] = height; rp.Dims[2] = (uint)Math.Floor(rp.MaxPx / 2);
                rp.Near = (float)camera.Near; rp.Far = (float)camera.Far;
                _vk.CmdPushConstants(cb, _resolveLayout, ShaderStageFlags.FragmentBit, ScenePush.ResolveOffset, ScenePush.ResolveBytes, (byte*)&rp + ScenePush.ResolveOffset);
                _vk.CmdDraw(cb, 3, 1, 0, 0);
            }
            else if (drawPoints)
            {
                _vk.CmdBindPipeline(cb, PipelineBindPoint.Graphics, PointsPipeline(stride));
                _vk.CmdPushConstants(cb, _sceneLayout, ShaderStageFlags.VertexBit, 0, ScenePush.SceneBytes, &push);
                var buf = _pointBuffer.Buffer!.Buffer;
                _vk.CmdBindVertexBuffers(cb, 0, 1, &buf, &zero);
                _vk.CmdDraw(cb, (uint)(_pointBuffer.Count / stride), 1, 0, 0);
            }
            if (_insetScratch.Count + _textScratch.Count > 0)
            {
                _vk.CmdBindPipeline(cb, PipelineBindPoint.Graphics, _overlay);
                var size = stackalloc float[2] { width, height };
                _vk.CmdPushConstants(cb, _overlayLayout, ShaderStageFlags.VertexBit, 0, 8, size);
                var buf = fs.Overlay.Buffer;
                _vk.CmdBindVertexBuffers(cb, 0, 1, &buf, &zero);
                if (_insetScratch.Count > 0)
                {
                    var set = _insetSet;
                    _vk.CmdBindDescriptorSets(cb, PipelineBindPoint.Graphics, _overlayLayout, 0, 1, &set, 0, null);
                    _vk.CmdDraw(cb, (uint)_insetScratch.Count, 1, 0, 0);
                }
                if (_textScratch.Count > 0)
                {
                    var set = _fontSet;
                    _vk.CmdBindDescriptorSets(cb, PipelineBindPoint.Graphics, _overlayLayout, 0, 1, &set, 0, null);
                    _vk.CmdDraw(cb, (uint)_textScratch.Count, 1, (uint)_insetScratch.Count, 0);
                }
            }
            _vk.CmdEndRenderPass(cb);
        }

        /// <summary>Largest splat of the compute rasteriser, pixels (its cost grows with the square of the size).</summary>
        public const float MaxComputePointPixels = 5;

        /// <summary>
        /// Compute point rasterisation before the render pass: clear the slot's per-pixel depth, pass 0 keeps the nearest
        /// depth per pixel, pass 1 writes the winners' colours; points_resolve.frag grows them into splats inside the pass.
        /// </summary>
        private void RecordRaster(CommandBuffer cb, FrameSlot fs, uint width, uint height, ScenePush push, int stride)
        {
            ulong pixels = (ulong)width * height * 4;
            if (fs.Depth == null || fs.Depth.Size < pixels)
            {
                fs.Depth?.Dispose();
                fs.Color?.Dispose();
                fs.Depth = new DeviceBuffer(_dev, pixels, BufferUsageFlags.StorageBufferBit, hostVisible: false);
                fs.Color = new DeviceBuffer(_dev, pixels, BufferUsageFlags.StorageBufferBit | BufferUsageFlags.TransferDstBit, hostVisible: false);
                fs.BoundPoints = 0;
            }
            var points = _pointBuffer.Buffer!;
            if (fs.BoundPoints != points.Buffer.Handle)
            {
                // The slot's previous frame is done (the caller waited for it), so its set may be rewritten.
                var infos = stackalloc DescriptorBufferInfo[3];
                infos[0] = new DescriptorBufferInfo(points.Buffer, 0, Vk.WholeSize);
                infos[1] = new DescriptorBufferInfo(fs.Depth.Buffer, 0, Vk.WholeSize);
                infos[2] = new DescriptorBufferInfo(fs.Color!.Buffer, 0, Vk.WholeSize);
                var writes = stackalloc WriteDescriptorSet[3];
                for (uint i = 0; i < 3; i++)
                    writes[i] = new WriteDescriptorSet
                    {
                        SType = StructureType.WriteDescriptorSet, DstSet = fs.RasterSet, DstBinding = i, DescriptorCount = 1,
                        DescriptorType = DescriptorType.StorageBuffer, PBufferInfo = &infos[i],
                    };
                _vk.UpdateDescriptorSets(_dev.Device, 3, writes, 0, null);
                fs.BoundPoints = points.Buffer.Handle;
            }
            uint count = (uint)(_pointBuffer.Count / stride);
            push.Dims[0] = width; push.Dims[1] = height; push.Dims[2] = count;

            _vk.CmdFillBuffer(cb, fs.Depth.Buffer, 0, pixels, 0xFFFFFFFFu);
            _vk.CmdFillBuffer(cb, fs.Color!.Buffer, 0, pixels, 0xFFFFFFFFu); // colour ties resolve by atomicMin (deterministic)
            Barrier(cb, PipelineStageFlags.TransferBit | PipelineStageFlags.FragmentShaderBit, AccessFlags.TransferWriteBit | AccessFlags.ShaderReadBit,
                PipelineStageFlags.ComputeShaderBit, AccessFlags.ShaderReadBit | AccessFlags.ShaderWriteBit);
            _vk.CmdBindPipeline(cb, PipelineBindPoint.Compute, _raster);
            var set = fs.RasterSet;
            _vk.CmdBindDescriptorSets(cb, PipelineBindPoint.Compute, _rasterLayout, 0, 1, &set, 0, null);
            uint groups = (count + 255) / 256;
            for (uint pass = 0; pass < 2; pass++)
            {
                push.Dims[3] = pass | ((uint)stride << 1);
                _vk.CmdPushConstants(cb, _rasterLayout, ShaderStageFlags.ComputeBit, 0, ScenePush.RasterBytes, &push);
                if (groups > 0) _vk.CmdDispatch(cb, groups, 1, 1);
                Barrier(cb, PipelineStageFlags.ComputeShaderBit, AccessFlags.ShaderWriteBit,
                    pass == 0 ? PipelineStageFlags.ComputeShaderBit : PipelineStageFlags.FragmentShaderBit,
                    pass == 0 ? AccessFlags.ShaderReadBit | AccessFlags.ShaderWriteBit : AccessFlags.ShaderReadBit);
            }
        }

        private void Barrier(CommandBuffer cb, PipelineStageFlags src, AccessFlags srcAccess, PipelineStageFlags dst, AccessFlags dstAccess)
        {
            var mb = new MemoryBarrier { SType = StructureType.MemoryBarrier, SrcAccessMask = srcAccess, DstAccessMask = dstAccess };
            _vk.CmdPipelineBarrier(cb, src, dst, 0, 1, &mb, 0, null, 0, null);
        }

        private void EnsureCapacity(ref DeviceBuffer? b, ulong bytes)
        {
            if (b != null && b.Size >= bytes) return;
            b?.Dispose(); // the caller waited for this slot's previous frame
            ulong size = 64 * 1024;
            while (size < bytes) size *= 2;
            b = new DeviceBuffer(_dev, size, BufferUsageFlags.VertexBufferBit, hostVisible: true);
        }

        public void Dispose()
        {
            _dev.WaitIdle();
            foreach (var s in _slots) { s.Lines?.Dispose(); s.Overlay?.Dispose(); s.Depth?.Dispose(); s.Color?.Dispose(); }
            _vk.DestroyDescriptorPool(_dev.Device, _rasterPool, null);
            _vk.DestroyPipeline(_dev.Device, _raster, null);
            _vk.DestroyPipeline(_dev.Device, _resolve, null);
            _vk.DestroyPipelineLayout(_dev.Device, _rasterLayout, null);
            _vk.DestroyPipelineLayout(_dev.Device, _resolveLayout, null);
            _vk.DestroyDescriptorSetLayout(_dev.Device, _rasterSetLayout, null);
            _pointBuffer.Dispose();
            _inset?.Dispose();
            _blank.Dispose();
            _font.Dispose();
            _vk.DestroyDescriptorPool(_dev.Device, _pool, null);
            _vk.DestroySampler(_dev.Device, _sampler, null);
            _vk.DestroyPipeline(_dev.Device, _overlay, null);
            _vk.DestroyPipeline(_dev.Device, _lines, null);
            _vk.DestroyPipeline(_dev.Device, _points, null);
            foreach (var p in _strided.Values) _vk.DestroyPipeline(_dev.Device, p, null);
            _vk.DestroyPipelineLayout(_dev.Device, _overlayLayout, null);
            _vk.DestroyDescriptorSetLayout(_dev.Device, _texLayout, null);
            _vk.DestroyPipelineLayout(_dev.Device, _sceneLayout, null);
            _vk.DestroyRenderPass(_dev.Device, RenderPass, null);
        }
    }
}
