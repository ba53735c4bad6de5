using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using FlowMap.Viewer.Scenes;
using FlowMap.Gpu;
using Silk.NET.Vulkan;
using VkSemaphore = Silk.NET.Vulkan.Semaphore;

namespace FlowMap.Viewer.Rendering
{
    /// <summary>
    /// The interactive window: GLFW window + Vulkan surface and swapchain, two frames in flight, input handling, and the
    /// scene renderer. Resize, minimise (zero-size framebuffer: wait, draw nothing) and out-of-date/suboptimal swapchains
    /// are handled by recreating the swapchain.
    /// </summary>
    internal sealed unsafe class ViewerWindow : IDisposable
    {
        private const int FramesInFlight = 2;
        private static readonly ConcurrentDictionary<IntPtr, ViewerWindow> s_windows = new ConcurrentDictionary<IntPtr, ViewerWindow>();

        private readonly IViewerScene _scene;
        private readonly ViewerOptions _options;
        private IntPtr _window;
        private RenderDevice? _dev;
        private SurfaceKHR _surface;
        private Swapchain? _swapchain;
        private SceneRenderer? _renderer;
        private readonly CommandBuffer[] _cbs = new CommandBuffer[FramesInFlight];
        private readonly Fence[] _fences = new Fence[FramesInFlight];
        private readonly VkSemaphore[] _imageAvailable = new VkSemaphore[FramesInFlight];
        private bool _glfwUp, _needsRecreate;

        // Interaction state.
        private readonly RenderSettings _settings;
        private OrbitController? _orbit;
        private bool _follow, _help, _boundsSeen, _autoFit;
        private double _lastX, _lastY, _scroll, _lastMotion = double.NegativeInfinity;
        private double _fps = double.NaN;
        private int _screenshots;
        private string? _flash;
        private double _flashUntil;

        private ViewerWindow(IViewerScene scene, ViewerOptions options)
        {
            _scene = scene;
            _options = options;
            _settings = options.Settings.Clone();
        }

        public static ViewerWindow Open(IViewerScene scene, ViewerOptions options)
        {
            var w = new ViewerWindow(scene, options);
            try { w.Init(); return w; }
            catch { w.Dispose(); throw; }
        }

        private void Init()
        {
            try
            {
                if (Glfw.Init() == 0)
                    throw new ViewerUnavailableException("The window system did not start: " + (Glfw.LastError() ?? "glfwInit failed") +
                                                         ". Render headless with --screenshot S.png.");
            }
            catch (DllNotFoundException e)
            {
                throw new ViewerUnavailableException("GLFW (libglfw.so.3) is not installed: apt-get install libglfw3 (./flowmap installs it), " +
                                                     "or render headless with --screenshot S.png.", e);
            }
            _glfwUp = true;
            if (Glfw.VulkanSupported() == 0)
                throw new ViewerUnavailableException("GLFW found no Vulkan loader with window-surface support: apt-get install libvulkan1 mesa-vulkan-drivers.");
            Glfw.WindowHint(Glfw.ClientApi, Glfw.NoApi);
            Glfw.WindowHint(Glfw.Resizable, 1);
            _window = Glfw.CreateWindow(_options.Width, _options.Height, _scene.Title, IntPtr.Zero, IntPtr.Zero);
            if (_window == IntPtr.Zero) throw new ViewerUnavailableException("Could not open a window: " + (Glfw.LastError() ?? "glfwCreateWindow failed"));
            s_windows[_window] = this;
            Glfw.SetScrollCallback(_window, &OnScroll);
            Glfw.SetKeyCallback(_window, &OnKey);
            Glfw.SetFramebufferSizeCallback(_window, &OnResize);

            try
            {
                _dev = RenderDevice.Create(new RenderDeviceOptions { SurfaceExtensions = Glfw.RequiredInstanceExtensions(), Validation = _options.Validation });
            }
            catch (RenderException e)
            {
                throw new ViewerUnavailableException(e.Message, e);
            }
            int r = Glfw.CreateWindowSurface(_dev.Instance.Handle, _window, IntPtr.Zero, out ulong surface);
            ((Result)r).Check("glfwCreateWindowSurface");
            _surface = new SurfaceKHR(surface);

            PresentModeKHR? mode = _options.PresentMode.ToLowerInvariant() switch
            {
                "immediate" => PresentModeKHR.ImmediateKhr, "mailbox" => PresentModeKHR.MailboxKhr, _ => PresentModeKHR.FifoKhr,
            };
            _swapchain = new Swapchain(_dev, _surface, mode);
            _renderer = new SceneRenderer(_dev, _swapchain.Format, ImageLayout.PresentSrcKhr, FramesInFlight);
            Glfw.GetFramebufferSize(_window, out int fw, out int fh);
            _needsRecreate = !_swapchain.Create(_renderer.RenderPass, _renderer.DepthFormat, fw, fh);

            var vk = _dev.Vk;
            var ai = new CommandBufferAllocateInfo
            {
                SType = StructureType.CommandBufferAllocateInfo, CommandPool = _dev.CommandPool, Level = CommandBufferLevel.Primary, CommandBufferCount = FramesInFlight,
            };
            fixed (CommandBuffer* p = _cbs) vk.AllocateCommandBuffers(_dev.Device, &ai, p).Check("vkAllocateCommandBuffers");
            for (int i = 0; i < FramesInFlight; i++)
            {
                var fci = new FenceCreateInfo { SType = StructureType.FenceCreateInfo, Flags = FenceCreateFlags.SignaledBit };
                Fence f;
                vk.CreateFence(_dev.Device, &fci, null, &f).Check("vkCreateFence");
                _fences[i] = f;
                var sci = new SemaphoreCreateInfo { SType = StructureType.SemaphoreCreateInfo };
                VkSemaphore s;
                vk.CreateSemaphore(_dev.Device, &sci, null, &s).Check("vkCreateSemaphore");
                _imageAvailable[i] = s;
            }
        }

        public ViewerRunResult Loop()
        {
            var dev = _dev!;
            var vk = dev.Vk;
            var sc = _swapchain!;
            var renderer = _renderer!;
            int slot = 0, frames = 0;
            var clock = Stopwatch.StartNew();
            double first = double.NaN, last = 0, prev = clock.Elapsed.TotalSeconds;
            Glfw.GetCursorPos(_window, out _lastX, out _lastY);
            while (Glfw.WindowShouldClose(_window) == 0)
            {
                Glfw.PollEvents();
                Glfw.GetFramebufferSize(_window, out int fw, out int fh);
                if (fw == 0 || fh == 0)
                {
                    Glfw.WaitEventsTimeout(0.1); // minimised: nothing to draw
                    continue;
                }
                if (_needsRecreate || fw != sc.Extent.Width || fh != sc.Extent.Height)
                {
                    dev.WaitIdle();
                    if (!sc.Create(renderer.RenderPass, renderer.DepthFormat, fw, fh)) { Glfw.WaitEventsTimeout(0.05); continue; }
                    _needsRecreate = false;
                }
                double now = clock.Elapsed.TotalSeconds, dt = Math.Min(0.1, now - prev);
                prev = now;

                var fence = _fences[slot];
                vk.WaitForFences(dev.Device, 1, &fence, true, ulong.MaxValue).Check("vkWaitForFences");
                uint image;
                var acq = dev.AcquireNextImage(dev.Device, sc.Handle, ulong.MaxValue, _imageAvailable[slot], default, &image);
                if (acq == Result.ErrorOutOfDateKhr) { _needsRecreate = true; continue; }
                if (acq != Result.SuboptimalKhr) acq.Check("vkAcquireNextImageKHR");

                var snap = _scene.Snapshot();
                renderer.Sync(snap);
                int w = (int)sc.Extent.Width, h = (int)sc.Extent.Height;
                var cam = UpdateCamera(snap, renderer.Bounds, w, h, dt);
                var text = Text(snap, cam, now);

                vk.ResetFences(dev.Device, 1, &fence).Check("vkResetFences");
                var cb = _cbs[slot];
                vk.ResetCommandBuffer(cb, 0).Check("vkResetCommandBuffer");
                var bi = new CommandBufferBeginInfo { SType = StructureType.CommandBufferBeginInfo, Flags = CommandBufferUsageFlags.OneTimeSubmitBit };
                vk.BeginCommandBuffer(cb, &bi).Check("vkBeginCommandBuffer");
                // While the view moves, draw within the interactive point budget; the full cloud once it stops.
                var frameSettings = _settings;
                double tnow = Stopwatch.GetTimestamp() / (double)Stopwatch.Frequency;
                int budget = _settings.InteractivePointBudget ?? (dev.DeviceType == PhysicalDeviceType.Cpu ? 250_000 : 0);
                if (tnow - _lastMotion < 0.3 && budget > 0)
                {
                    frameSettings = _settings.Clone();
                    frameSettings.PointBudget = _settings.PointBudget > 0 ? Math.Min(_settings.PointBudget, budget) : budget;
                }
                renderer.Record(cb, slot, sc.Framebuffers[image], sc.Extent.Width, sc.Extent.Height, cam, frameSettings, snap, text);
                vk.EndCommandBuffer(cb).Check("vkEndCommandBuffer");

                var wait = _imageAvailable[slot];
                var signal = sc.RenderFinished[image];
                var stage = PipelineStageFlags.ColorAttachmentOutputBit;
                var si = new SubmitInfo
                {
                    SType = StructureType.SubmitInfo, WaitSemaphoreCount = 1, PWaitSemaphores = &wait, PWaitDstStageMask = &stage,
                    CommandBufferCount = 1, PCommandBuffers = &cb, SignalSemaphoreCount = 1, PSignalSemaphores = &signal,
                };
                vk.QueueSubmit(dev.Queue, 1, &si, fence).Check("vkQueueSubmit");
                var swap = sc.Handle;
                var pi = new PresentInfoKHR
                {
                    SType = StructureType.PresentInfoKhr, WaitSemaphoreCount = 1, PWaitSemaphores = &signal, SwapchainCount = 1, PSwapchains = &swap, PImageIndices = &image,
                };
                var pr = dev.QueuePresent(dev.Queue, &pi);
                if (pr == Result.ErrorOutOfDateKhr || pr == Result.SuboptimalKhr) _needsRecreate = true;
                else pr.Check("vkQueuePresentKHR");

                frames++;
                double t = clock.Elapsed.TotalSeconds;
                if (frames == 1) { first = t; _options.OnFirstFrame?.Invoke(); }
                else _fps = double.IsNaN(_fps) ? 1 / Math.Max(1e-6, t - last) : 0.9 * _fps + 0.1 / Math.Max(1e-6, t - last);
                last = t;
                slot = (slot + 1) % FramesInFlight;
                if (_options.OnFrame != null) _options.OnFrame(new Control(this, frames));
                if (_options.MaxFrames > 0 && frames >= _options.MaxFrames) break;
                if (_options.MaxSeconds > 0 && t - first >= _options.MaxSeconds) break;
            }
            dev.WaitIdle();
            dev.ThrowIfValidationErrors();
            return new ViewerRunResult(frames, double.IsNaN(first) ? 0 : last - first, sc.Recreations, dev.DeviceName, renderer.PointCount);
        }

        private ViewCamera UpdateCamera(ViewerSnapshot snap, SceneBounds b, int w, int h, double dt)
        {
            if (_orbit == null || (!_boundsSeen && snap.PointCount + snap.Trajectory.Count > 0))
            {
                // Start from the requested view (an orbit about the scene; a frame camera starts following that frame).
                _orbit = _options.Camera.StartOrbit(b, w, h, CameraSpec.CurrentCamera(snap));
                _boundsSeen = snap.PointCount + snap.Trajectory.Count > 0;
                _autoFit = _options.Camera.AutoFits;
            }
            var o = _orbit;
            Glfw.GetCursorPos(_window, out double x, out double y);
            double dx = x - _lastX, dy = y - _lastY;
            _lastX = x; _lastY = y;
            bool shift = Glfw.GetKey(_window, Glfw.KeyLeftShift) == Glfw.Press || Glfw.GetKey(_window, Glfw.KeyRightShift) == Glfw.Press;
            bool left = Glfw.GetMouseButton(_window, Glfw.MouseLeft) == Glfw.Press;
            bool right = Glfw.GetMouseButton(_window, Glfw.MouseRight) == Glfw.Press || Glfw.GetMouseButton(_window, Glfw.MouseMiddle) == Glfw.Press;
            double fy = h / (2 * Math.Tan(Math.PI / 6));
            bool moved = ((left || right) && (dx != 0 || dy != 0)) || _scroll != 0;
            // Auto fit (the default view): target and distance follow the growing scene and the current camera; orbiting
            // keeps it, panning, zooming or flying hands the framing to the user (R gives it back).
            if (_autoFit) CameraSpec.Approach(o, b, w, h, CameraSpec.CurrentCamera(snap), dt);
            if (left && !shift) o.Orbit(dx * 0.006, dy * 0.006);
            else if (right || (left && shift)) { o.Pan(-dx / fy, -dy / fy); if (dx != 0 || dy != 0) _autoFit = false; }
            if (_scroll != 0) { o.Zoom(_scroll); _scroll = 0; _autoFit = false; }
            double speed = b.Radius * 0.6 * dt * (shift ? 4 : 1);
            double fwd = Key(Glfw.KeyW) - Key(Glfw.KeyS), side = Key(Glfw.KeyD) - Key(Glfw.KeyA), down = Key(Glfw.KeyE) - Key(Glfw.KeyQ);
            if (fwd != 0 || side != 0 || down != 0) { o.Fly(fwd * speed, side * speed, down * speed); moved = true; _autoFit = false; }
            if (moved) _lastMotion = Stopwatch.GetTimestamp() / (double)Stopwatch.Frequency;

            if (_follow && snap.CurrentFrame >= 0 && snap.CurrentFrame < snap.Trajectory.Count)
            {
                // Just behind and above the current camera, looking where it looks.
                var back = new CameraPose(new double[] { 1, 0, 0, 0, 1, 0, 0, 0, 1 }, new[] { 0, -0.1 * b.Radius, -0.35 * b.Radius });
                var pose = snap.Trajectory[snap.CurrentFrame].Compose(back);
                return new ViewCamera
                {
                    Pose = pose, Intrinsics = Intrinsics.Centered(w, h, fy), Near = Math.Max(1e-5, b.Radius * 1e-3), Far = b.Radius * 100,
                };
            }
            return CameraSpec.Perspective(o, b, w, h);
        }

        private double Key(int key) => Glfw.GetKey(_window, key) == Glfw.Press ? 1 : 0;

        private List<string> Text(ViewerSnapshot snap, ViewCamera cam, double now)
        {
            int stride = _renderer!.LastPointStride;
            var lines = ViewerApp.Hud(snap, _fps, cam, (_follow ? "FOLLOW" : _autoFit ? "AUTO FIT" : "ORBIT") + (stride > 1 ? $"  DRAWING 1/{stride} POINTS" : "") + "  H HELP");
            if (_help)
            {
                lines.Add("LEFT DRAG ORBIT  RIGHT/SHIFT DRAG PAN  WHEEL ZOOM  WASD QE FLY (SHIFT FAST)  F FOLLOW  R RESET (AUTO FIT)");
                lines.Add("+/- POINT SIZE  M POINT MODE  1 POINTS  2 PATH  3 CAMERAS  4 GRID  5 AXES  6 INSET  7 TEXT  P SCREENSHOT  ESC QUIT");
            }
            if (_flash != null && now < _flashUntil) lines.Add(_flash);
            return lines;
        }

        private void OnKeyPress(int key, int mods)
        {
            switch (key)
            {
                case Glfw.KeyEscape: Glfw.SetWindowShouldClose(_window, 1); break;
                case Glfw.KeyF: _follow = !_follow; break;
                case Glfw.KeyR: _orbit = null; _boundsSeen = false; _follow = false; break;
                case Glfw.KeyH: _help = !_help; break;
                case Glfw.KeyEqual: case Glfw.KeyKpAdd: _settings.PointScale *= 1.25; break;
                case Glfw.KeyMinus: case Glfw.KeyKpSubtract: _settings.PointScale /= 1.25; break;
                case Glfw.KeyP: SaveScreenshot(); break;
                case Glfw.KeyM:
                    // Cycle how points are drawn: automatic -> sprites -> compute.
                    _settings.PointMode = _settings.PointMode == PointMode.Auto ? PointMode.Sprites : _settings.PointMode == PointMode.Sprites ? PointMode.Compute : PointMode.Auto;
                    _flash = "POINTS: " + _settings.PointMode.ToString().ToUpperInvariant();
                    _flashUntil = Stopwatch.GetTimestamp() / (double)Stopwatch.Frequency + 2;
                    break;
                default:
                    int layer = key - Glfw.Key1;
                    switch (layer)
                    {
                        case 0: _settings.ShowPoints = !_settings.ShowPoints; break;
                        case 1: _settings.ShowTrajectory = !_settings.ShowTrajectory; break;
                        case 2: _settings.ShowFrustums = !_settings.ShowFrustums; break;
                        case 3: _settings.ShowGrid = !_settings.ShowGrid; break;
                        case 4: _settings.ShowAxes = !_settings.ShowAxes; break;
                        case 5: _settings.ShowInset = !_settings.ShowInset; break;
                        case 6: _settings.ShowText = !_settings.ShowText; break;
                    }
                    break;
            }
        }

        private void SaveScreenshot()
        {
            try
            {
                var sc = _swapchain!;
                int w = (int)sc.Extent.Width, h = (int)sc.Extent.Height;
                var snap = _scene.Snapshot();
                string path;
                do path = Path.Combine(_options.ScreenshotDirectory, $"flowmap-{++_screenshots:D3}.png"); while (File.Exists(path));
                using (var off = new OffscreenRenderer(w, h, _dev))
                {
                    off.Scene.Sync(snap);
                    var cam = UpdateCamera(snap, off.Scene.Bounds, w, h, 0);
                    ViewerApp.WritePng(path, off.Render(cam, _settings, snap, ViewerApp.Hud(snap, _fps, cam, null)), w, h);
                }
                _flash = "SAVED " + Path.GetFileName(path);
                Console.Error.WriteLine("flowmap view: saved " + path);
            }
            catch (Exception e)
            {
                _flash = "SCREENSHOT FAILED";
                Console.Error.WriteLine("flowmap view: screenshot failed: " + e.Message);
            }
            _flashUntil = Stopwatch.GetTimestamp() / (double)Stopwatch.Frequency + 3;
        }

        [System.Runtime.InteropServices.UnmanagedCallersOnly(CallConvs = new[] { typeof(System.Runtime.CompilerServices.CallConvCdecl) })]
        private static void OnScroll(IntPtr window, double dx, double dy)
        {
            if (s_windows.TryGetValue(window, out var w)) w._scroll += dy;
        }

        [System.Runtime.InteropServices.UnmanagedCallersOnly(CallConvs = new[] { typeof(System.Runtime.CompilerServices.CallConvCdecl) })]
        private static void OnKey(IntPtr window, int key, int scancode, int action, int mods)
        {
            if (action != Glfw.Press && !(action == Glfw.Repeat && (key == Glfw.KeyEqual || key == Glfw.KeyMinus || key == Glfw.KeyKpAdd || key == Glfw.KeyKpSubtract))) return;
            if (s_windows.TryGetValue(window, out var w))
            {
                try { w.OnKeyPress(key, mods); }
                catch (Exception e) { Console.Error.WriteLine("flowmap view: " + e.Message); }
            }
        }

        [System.Runtime.InteropServices.UnmanagedCallersOnly(CallConvs = new[] { typeof(System.Runtime.CompilerServices.CallConvCdecl) })]
        private static void OnResize(IntPtr window, int width, int height)
        {
            if (s_windows.TryGetValue(window, out var w)) w._needsRecreate = true;
        }

        private sealed class Control : ViewerWindowControl
        {
            private readonly ViewerWindow _w;
            private readonly int _frames;
            public Control(ViewerWindow w, int frames) { _w = w; _frames = frames; }
            public override int FramesPresented => _frames;
            public override (int Width, int Height) Size => ((int)_w._swapchain!.Extent.Width, (int)_w._swapchain.Extent.Height);
            public override void Resize(int width, int height) => Glfw.SetWindowSize(_w._window, width, height);
            public override void Close() => Glfw.SetWindowShouldClose(_w._window, 1);
        }

        public void Dispose()
        {
            if (_dev != null)
            {
                _dev.WaitIdle();
                var vk = _dev.Vk;
                for (int i = 0; i < FramesInFlight; i++)
                {
                    if (_fences[i].Handle != 0) vk.DestroyFence(_dev.Device, _fences[i], null);
                    if (_imageAvailable[i].Handle != 0) vk.DestroySemaphore(_dev.Device, _imageAvailable[i], null);
                }
                if (_cbs[0].Handle != IntPtr.Zero) fixed (CommandBuffer* p = _cbs) vk.FreeCommandBuffers(_dev.Device, _dev.CommandPool, FramesInFlight, p);
                _swapchain?.Dispose();
                _renderer?.Dispose();
                if (_surface.Handle != 0) _dev.DestroySurface(_dev.Instance, _surface, null);
                _dev.Dispose();
                _dev = null;
            }
            if (_window != IntPtr.Zero)
            {
                s_windows.TryRemove(_window, out _);
                Glfw.DestroyWindow(_window);
                _window = IntPtr.Zero;
            }
            if (_glfwUp) { Glfw.Terminate(); _glfwUp = false; }
        }
    }
}
