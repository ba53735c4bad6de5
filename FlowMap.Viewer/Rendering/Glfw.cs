using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;

namespace FlowMap.Viewer.Rendering
{
    /// <summary>
    /// The few GLFW 3.3 entry points the viewer uses, bound by P/Invoke to the system's libglfw.so.3 (Debian libglfw3).
    /// Constants from GLFW's public header (glfw3.h).
    /// </summary>
    internal static unsafe class Glfw
    {
        private const string Lib = "libglfw.so.3";

        public const int ClientApi = 0x00022001, NoApi = 0, Resizable = 0x00020003, Visible = 0x00020004;
        public const int Release = 0, Press = 1, Repeat = 2;
        public const int MouseLeft = 0, MouseRight = 1, MouseMiddle = 2;
        public const int ModShift = 0x0001;
        public const int KeySpace = 32, KeyMinus = 45, KeyEqual = 61, Key1 = 49;
        public const int KeyA = 65, KeyC = 67, KeyD = 68, KeyE = 69, KeyF = 70, KeyH = 72, KeyM = 77, KeyP = 80, KeyQ = 81, KeyR = 82, KeyS = 83, KeyW = 87;
        public const int KeyEscape = 256, KeyKpSubtract = 333, KeyKpAdd = 334, KeyLeftShift = 340, KeyRightShift = 344;

        [DllImport(Lib, EntryPoint = "glfwInit")] public static extern int Init();
        [DllImport(Lib, EntryPoint = "glfwTerminate")] public static extern void Terminate();
        [DllImport(Lib, EntryPoint = "glfwGetError")] public static extern int GetError(out IntPtr description);
        [DllImport(Lib, EntryPoint = "glfwWindowHint")] public static extern void WindowHint(int hint, int value);
        [DllImport(Lib, EntryPoint = "glfwCreateWindow")] public static extern IntPtr CreateWindow(int width, int height, [MarshalAs(UnmanagedType.LPUTF8Str)] string title, IntPtr monitor, IntPtr share);
        [DllImport(Lib, EntryPoint = "glfwDestroyWindow")] public static extern void DestroyWindow(IntPtr window);
        [DllImport(Lib, EntryPoint = "glfwSetWindowTitle")] public static extern void SetWindowTitle(IntPtr window, [MarshalAs(UnmanagedType.LPUTF8Str)] string title);
        [DllImport(Lib, EntryPoint = "glfwSetWindowSize")] public static extern void SetWindowSize(IntPtr window, int width, int height);
        [DllImport(Lib, EntryPoint = "glfwWindowShouldClose")] public static extern int WindowShouldClose(IntPtr window);
        [DllImport(Lib, EntryPoint = "glfwSetWindowShouldClose")] public static extern void SetWindowShouldClose(IntPtr window, int value);
        [DllImport(Lib, EntryPoint = "glfwPollEvents")] public static extern void PollEvents();
        [DllImport(Lib, EntryPoint = "glfwWaitEventsTimeout")] public static extern void WaitEventsTimeout(double seconds);
        [DllImport(Lib, EntryPoint = "glfwGetFramebufferSize")] public static extern void GetFramebufferSize(IntPtr window, out int width, out int height);
        [DllImport(Lib, EntryPoint = "glfwGetCursorPos")] public static extern void GetCursorPos(IntPtr window, out double x, out double y);
        [DllImport(Lib, EntryPoint = "glfwGetMouseButton")] public static extern int GetMouseButton(IntPtr window, int button);
        [DllImport(Lib, EntryPoint = "glfwGetKey")] public static extern int GetKey(IntPtr window, int key);
        [DllImport(Lib, EntryPoint = "glfwVulkanSupported")] public static extern int VulkanSupported();
        [DllImport(Lib, EntryPoint = "glfwGetRequiredInstanceExtensions")] public static extern byte** GetRequiredInstanceExtensions(out uint count);
        [DllImport(Lib, EntryPoint = "glfwCreateWindowSurface")] public static extern int CreateWindowSurface(IntPtr instance, IntPtr window, IntPtr allocator, out ulong surface);
        [DllImport(Lib, EntryPoint = "glfwSetScrollCallback")] public static extern IntPtr SetScrollCallback(IntPtr window, delegate* unmanaged[Cdecl]<IntPtr, double, double, void> callback);
        [DllImport(Lib, EntryPoint = "glfwSetKeyCallback")] public static extern IntPtr SetKeyCallback(IntPtr window, delegate* unmanaged[Cdecl]<IntPtr, int, int, int, int, void> callback);
        [DllImport(Lib, EntryPoint = "glfwSetFramebufferSizeCallback")] public static extern IntPtr SetFramebufferSizeCallback(IntPtr window, delegate* unmanaged[Cdecl]<IntPtr, int, int, void> callback);

        /// <summary>The last GLFW error's description, or null.</summary>
        public static string? LastError()
        {
            int code = GetError(out var desc);
            return code == 0 ? null : $"{Marshal.PtrToStringUTF8(desc)} (GLFW error 0x{code:X})";
        }

        public static List<string> RequiredInstanceExtensions()
        {
            var p = GetRequiredInstanceExtensions(out uint n);
            var list = new List<string>();
            for (int i = 0; i < n && p != null; i++) list.Add(Marshal.PtrToStringUTF8((IntPtr)p[i]) ?? "");
            return list;
        }
    }
}
