// FlowMap sample, built on the package's FlowMapSession component: feeds a WebCamTexture into it, moves `cameraProxy`
// to the latest pose and draws the fused points as a point mesh. Add it to an empty GameObject (it adds FlowMapSession),
// press Play. Poses and points arrive on the main thread already in Unity's axes (FlowMap.Core.UnityAxes).
using System.Collections.Generic;
using FlowMap.Core;
using FlowMap.Engine.Unity;
using UnityEngine;
using UnityEngine.Rendering;

namespace FlowMap.Engine.Unity.Samples
{
    [RequireComponent(typeof(FlowMapSession))]
    public sealed class FlowMapCameraFeed : MonoBehaviour
    {
        [Tooltip("Webcam name; empty picks the first device.")]
        public string deviceName = "";
        public int requestedWidth = 640, requestedHeight = 480, requestedFps = 30;
        [Tooltip("Optional transform moved to the latest camera pose.")]
        public Transform cameraProxy;
        [Tooltip("Material for the points (a vertex-colour shader that draws points).")]
        public Material pointMaterial;
        public int maxPoints = 2_000_000;

        private FlowMapSession _flowMap;
        private WebCamTexture _webcam;
        private Color32[] _pixels;
        private readonly List<Vector3> _positions = new List<Vector3>();
        private readonly List<Color32> _colors = new List<Color32>();
        private Mesh _mesh;

        private void Start()
        {
            _flowMap = GetComponent<FlowMapSession>();
            _flowMap.poseUpdated.AddListener(OnPose);
            _flowMap.PointsAdded += OnPoints;
            _flowMap.Warning += w => Debug.LogWarning(w);
            _webcam = string.IsNullOrEmpty(deviceName)
                ? new WebCamTexture(requestedWidth, requestedHeight, requestedFps)
                : new WebCamTexture(deviceName, requestedWidth, requestedHeight, requestedFps);
            _webcam.Play();
            _mesh = new Mesh { indexFormat = IndexFormat.UInt32 };
            gameObject.AddComponent<MeshFilter>().sharedMesh = _mesh;
            gameObject.AddComponent<MeshRenderer>().sharedMaterial = pointMaterial;
        }

        private void Update()
        {
            if (!_flowMap.IsReady || !_webcam.didUpdateThisFrame || _webcam.width <= 16) return; // the session starts in the background
            if (_pixels == null || _pixels.Length != _webcam.width * _webcam.height) _pixels = new Color32[_webcam.width * _webcam.height];
            _webcam.GetPixels32(_pixels);
            _flowMap.PushFrame(_pixels, _webcam.width, _webcam.height); // newest frame wins when the pipeline is behind
        }

        private void OnPose(Vector3 position, Quaternion rotation)
        {
            if (cameraProxy == null) return;
            cameraProxy.localPosition = position;
            cameraProxy.localRotation = rotation;
        }

        private void OnPoints(Vector3[] positions, Color32[] colors)
        {
            int n = Mathf.Min(positions.Length, maxPoints - _positions.Count);
            for (int i = 0; i < n; i++) { _positions.Add(positions[i]); _colors.Add(colors[i]); }
            _mesh.Clear();
            _mesh.SetVertices(_positions);
            _mesh.SetColors(_colors);
            var indices = new int[_positions.Count];
            for (int i = 0; i < indices.Length; i++) indices[i] = i;
            _mesh.SetIndices(indices, MeshTopology.Points, 0);
        }

        private void OnDestroy()
        {
            if (_webcam != null) _webcam.Stop();
        }
    }
}
