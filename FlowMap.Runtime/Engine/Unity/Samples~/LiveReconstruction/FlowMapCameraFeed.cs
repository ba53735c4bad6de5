// FlowMap sample: feed a WebCamTexture to a ReconstructionSession and draw the fused point cloud.
// Add this component to an empty GameObject, press Play. The camera pose of the latest frame moves `cameraProxy`
// (if set); points accumulate in a Mesh drawn with MeshTopology.Points.
//
// Conventions (see Documentation~/index.md): FlowMap poses are camera-to-world in OpenCV axes (x right, y down,
// z forward, right-handed); Unity is left-handed with y up. Converting a FlowMap point or camera centre to Unity
// flips y: (x, y, z) -> (x, -y, z). Rotations convert by conjugating with that flip (see ToUnityRotation).
using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using FlowMap;
using FlowMap.Session;
using UnityEngine;
using UnityEngine.Rendering;

namespace FlowMap.Samples
{
    public sealed class FlowMapCameraFeed : MonoBehaviour
    {
        [Tooltip("Webcam name; empty picks the first device.")]
        public string deviceName = "";
        public int requestedWidth = 640, requestedHeight = 480, requestedFps = 30;
        [Tooltip("Optional ONNX depth model (e.g. Depth Anything V2 Small) in StreamingAssets; empty learns depth from flow alone.")]
        public string depthModelFile = "";
        [Tooltip("Optional transform moved to the latest camera pose.")]
        public Transform cameraProxy;
        [Tooltip("Material for the points (a vertex-colour shader that draws points).")]
        public Material pointMaterial;
        [Tooltip("Scale applied to FlowMap's arbitrary reconstruction units.")]
        public float worldScale = 1f;
        public int maxPoints = 2_000_000;

        private WebCamTexture _webcam;
        private ReconstructionSession _session;
        private Color32[] _pixels;
        private readonly ConcurrentQueue<PointCloud> _newPoints = new ConcurrentQueue<PointCloud>();
        private readonly List<Vector3> _positions = new List<Vector3>();
        private readonly List<Color32> _colors = new List<Color32>();
        private Mesh _mesh;
        private bool _meshDirty;
        private double _startTime;
        private string _status = "";

        private void Start()
        {
            _webcam = string.IsNullOrEmpty(deviceName)
                ? new WebCamTexture(requestedWidth, requestedHeight, requestedFps)
                : new WebCamTexture(deviceName, requestedWidth, requestedHeight, requestedFps);
            _webcam.Play();

            var options = new SessionOptions
            {
                DepthModelPath = string.IsNullOrEmpty(depthModelFile)
                    ? null
                    : System.IO.Path.Combine(Application.streamingAssetsPath, depthModelFile),
            };
            // Creation fails with a clear message when there is no Vulkan driver or the model is unusable.
            _session = ReconstructionSession.Create(options);
            // Raised on FlowMap's pipeline thread: only hand data over here, touch Unity objects in Update.
            _session.FrameProcessed += update =>
            {
                if (update.NewPoints != null && update.NewPoints.Count > 0) _newPoints.Enqueue(update.NewPoints);
            };
            _session.Failed += e => Debug.LogError("FlowMap stopped: " + e.Message);

            _mesh = new Mesh { indexFormat = IndexFormat.UInt32 };
            var filter = gameObject.AddComponent<MeshFilter>();
            filter.sharedMesh = _mesh;
            var renderer = gameObject.AddComponent<MeshRenderer>();
            renderer.sharedMaterial = pointMaterial;
            _startTime = Time.realtimeSinceStartupAsDouble;
        }

        private void Update()
        {
            if (_session == null) return;

            // 1. Push the newest webcam frame (the session copies it; if the pipeline is behind, the newest frame wins).
            if (_webcam.didUpdateThisFrame && _webcam.width > 16)
            {
                if (_pixels == null || _pixels.Length != _webcam.width * _webcam.height)
                    _pixels = new Color32[_webcam.width * _webcam.height];
                _webcam.GetPixels32(_pixels);
                var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(new ReadOnlySpan<Color32>(_pixels));
                // Unity's pixel arrays start at the bottom row.
                _session.PushFrame(bytes, _webcam.width, _webcam.height, _webcam.width * 4, PixelFormat.Rgba32,
                    Time.realtimeSinceStartupAsDouble - _startTime, bottomRowFirst: true);
            }

            // 2. Poll the latest pose.
            if (_session.TryGetLatest(out var latest) && latest != null)
            {
                if (cameraProxy != null)
                {
                    var c = latest.Pose.Center;
                    cameraProxy.localPosition = new Vector3((float)c.X, (float)-c.Y, (float)c.Z) * worldScale;
                    cameraProxy.localRotation = ToUnityRotation(latest.Pose);
                }
                var stats = _session.Stats;
                _status = $"frame {latest.FrameIndex}  focal {latest.Intrinsics?.Fx:F1}px  latency {latest.LatencySeconds * 1000:F0} ms  dropped {stats.Dropped}";
            }

            // 3. Append new points to the mesh.
            while (_newPoints.TryDequeue(out var cloud))
            {
                for (int i = 0; i < cloud.Count && _positions.Count < maxPoints; i++)
                {
                    _positions.Add(new Vector3(cloud.Positions[3 * i], -cloud.Positions[3 * i + 1], cloud.Positions[3 * i + 2]) * worldScale);
                    _colors.Add(new Color32(cloud.Colors[3 * i], cloud.Colors[3 * i + 1], cloud.Colors[3 * i + 2], 255));
                }
                _meshDirty = true;
            }
            if (_meshDirty)
            {
                _mesh.Clear();
                _mesh.SetVertices(_positions);
                _mesh.SetColors(_colors);
                var indices = new int[_positions.Count];
                for (int i = 0; i < indices.Length; i++) indices[i] = i;
                _mesh.SetIndices(indices, MeshTopology.Points, 0);
                _meshDirty = false;
            }
        }

        private void OnGUI() => GUI.Label(new Rect(10, 10, 800, 20), _status);

        /// <summary>OpenCV camera-to-world rotation to a Unity rotation: S R S with S = diag(1, -1, 1).</summary>
        private static Quaternion ToUnityRotation(CameraPose pose)
        {
            var m = new Matrix4x4();
            for (int r = 0; r < 3; r++)
                for (int c = 0; c < 3; c++)
                    m[r, c] = (float)(pose.R(r, c) * (r == 1 ? -1 : 1) * (c == 1 ? -1 : 1));
            m[3, 3] = 1;
            return m.rotation;
        }

        private void OnDestroy()
        {
            _session?.Dispose();   // stops the pipeline thread and frees the Vulkan device
            if (_webcam != null) _webcam.Stop();
        }
    }
}
