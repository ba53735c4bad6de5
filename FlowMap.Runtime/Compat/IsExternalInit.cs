#if NETSTANDARD2_1
namespace System.Runtime.CompilerServices
{
    // The seam for netstandard2.1 (Unity): records and init-only setters need this marker type.
    internal static class IsExternalInit { }
}
#endif
