using System;
using System.Collections.Generic;
using System.Linq;

namespace FlowMap.Gpu
{
    /// <summary>
    /// A small SPIR-V reader: the facts the GPU layer needs from a compiled module, so they have one source of truth
    /// (the shader): storage-buffer bindings and whether each is read-only, the push-constant block's members and
    /// offsets, and specialization constant ids. SPIR-V 1.x binary layout: a 5-word header, then instructions whose
    /// first word is (word count &lt;&lt; 16) | opcode (SPIR-V specification, section 2.3).
    /// </summary>
    internal sealed class SpirvReflection
    {
        public sealed record Binding(uint Set, uint Index, string Name, bool ReadOnly, bool WriteOnly);
        public sealed record PushMember(string Name, uint Offset, uint Size);

        public IReadOnlyList<Binding> StorageBuffers { get; }
        public IReadOnlyList<PushMember> PushConstants { get; }
        public uint PushConstantSize => PushConstants.Count == 0 ? 0 : PushConstants.Max(m => m.Offset + m.Size);
        public IReadOnlyList<uint> SpecConstantIds { get; }
        public string EntryPoint { get; }

        private const int OpName = 5, OpMemberName = 6, OpEntryPoint = 15, OpTypeInt = 21, OpTypeFloat = 22, OpTypeVector = 23,
            OpTypeMatrix = 24, OpTypeArray = 28, OpTypeRuntimeArray = 29, OpTypeStruct = 30, OpTypePointer = 32, OpConstant = 43,
            OpVariable = 59, OpDecorate = 71, OpMemberDecorate = 72;
        private const int DecSpecId = 1, DecBlock = 2, DecBufferBlock = 3, DecNonWritable = 24, DecNonReadable = 25, DecBinding = 33,
            DecDescriptorSet = 34, DecOffset = 35;
        private const uint ScUniform = 2, ScPushConstant = 9, ScStorageBuffer = 12;

        public SpirvReflection(ReadOnlySpan<byte> module)
        {
            if (module.Length < 20 || module.Length % 4 != 0)
                throw new ArgumentException("Not a SPIR-V module (size).");
            var w = new uint[module.Length / 4];
            for (int i = 0; i < w.Length; i++) w[i] = BitConverter.ToUInt32(module.Slice(i * 4, 4).ToArray(), 0);
            if (w[0] != 0x07230203) throw new ArgumentException("Not a SPIR-V module (magic).");

            var names = new Dictionary<uint, string>();
            var memberNames = new Dictionary<(uint, uint), string>();
            var decorations = new Dictionary<uint, Dictionary<int, uint>>();
            var memberDecorations = new Dictionary<(uint, uint), Dictionary<int, uint>>();
            var types = new Dictionary<uint, uint[]>(); // id -> instruction words (opcode first)
            var constants = new Dictionary<uint, uint>();
            var variables = new List<(uint TypeId, uint Id, uint StorageClass)>();
            string entry = "main";

            for (int i = 5; i < w.Length;)
            {
                int count = (int)(w[i] >> 16), op = (int)(w[i] & 0xffff);
                if (count == 0) throw new ArgumentException("Corrupt SPIR-V (zero-length instruction).");
                var ins = new ArraySegment<uint>(w, i, count);
                switch (op)
                {
                    case OpName: names[w[i + 1]] = ReadString(w, i + 2, i + count); break;
                    case OpMemberName: memberNames[(w[i + 1], w[i + 2])] = ReadString(w, i + 3, i + count); break;
                    case OpEntryPoint: entry = ReadString(w, i + 3, i + count); break;
                    case OpDecorate:
                        if (!decorations.TryGetValue(w[i + 1], out var d)) decorations[w[i + 1]] = d = new Dictionary<int, uint>();
                        d[(int)w[i + 2]] = count > 3 ? w[i + 3] : 1;
                        break;
                    case OpMemberDecorate:
                        var key = (w[i + 1], w[i + 2]);
                        if (!memberDecorations.TryGetValue(key, out var md)) memberDecorations[key] = md = new Dictionary<int, uint>();
                        md[(int)w[i + 3]] = count > 4 ? w[i + 4] : 1;
                        break;
                    case OpTypeInt: case OpTypeFloat: case OpTypeVector: case OpTypeMatrix: case OpTypeArray:
                    case OpTypeRuntimeArray: case OpTypeStruct: case OpTypePointer:
                        types[w[i + 1]] = ins.ToArray();
                        break;
                    case OpConstant: constants[w[i + 2]] = w[i + 3]; break;
                    case OpVariable: variables.Add((w[i + 1], w[i + 2], w[i + 3])); break;
                }
                i += count;
            }
            EntryPoint = entry;

            uint Size(uint typeId)
            {
                var t = types[typeId];
                switch ((int)(t[0] & 0xffff))
                {
                    case OpTypeInt: case OpTypeFloat: return t[2] / 8;
                    case OpTypeVector: return Size(t[2]) * t[3];
                    case OpTypeMatrix: return Size(t[2]) * t[3];
                    case OpTypeArray: return Size(t[2]) * constants[t[3]];
                    case OpTypeStruct:
                        uint end = 0;
                        for (uint m = 0; m < t.Length - 2; m++)
                        {
                            uint off = memberDecorations.TryGetValue((typeId, m), out var dd) && dd.TryGetValue(DecOffset, out var o) ? o : 0;
                            end = Math.Max(end, off + Size(t[2 + m]));
                        }
                        return end;
                    default: throw new NotSupportedException($"SPIR-V type opcode {t[0] & 0xffff} in a push-constant block.");
                }
            }

            var buffers = new List<Binding>();
            var push = new List<PushMember>();
            foreach (var (ptrType, id, sc) in variables)
            {
                if (!types.TryGetValue(ptrType, out var ptr)) continue;
                uint pointee = ptr[3];
                if (!types.TryGetValue(pointee, out var st)) continue;
                if ((st[0] & 0xffff) == OpTypeArray || (st[0] & 0xffff) == OpTypeRuntimeArray) { pointee = st[2]; st = types[pointee]; }
                if ((st[0] & 0xffff) != OpTypeStruct) continue;
                decorations.TryGetValue(pointee, out var structDec);
                bool isBuffer = sc == ScStorageBuffer || (sc == ScUniform && structDec != null && structDec.ContainsKey(DecBufferBlock));
                if (isBuffer)
                {
                    decorations.TryGetValue(id, out var vd);
                    int members = st.Length - 2;
                    bool All(int dec) => (vd != null && vd.ContainsKey(dec)) ||
                        Enumerable.Range(0, members).All(m => memberDecorations.TryGetValue((pointee, (uint)m), out var mdd) && mdd.ContainsKey(dec));
                    buffers.Add(new Binding(
                        vd != null && vd.TryGetValue(DecDescriptorSet, out var set) ? set : 0,
                        vd != null && vd.TryGetValue(DecBinding, out var b) ? b : 0,
                        names.TryGetValue(id, out var n) ? n : names.TryGetValue(pointee, out var tn) ? tn : $"binding",
                        All(DecNonWritable), All(DecNonReadable)));
                }
                else if (sc == ScPushConstant)
                {
                    for (uint m = 0; m < st.Length - 2; m++)
                    {
                        uint off = memberDecorations.TryGetValue((pointee, m), out var dd) && dd.TryGetValue(DecOffset, out var o) ? o : 0;
                        push.Add(new PushMember(memberNames.TryGetValue((pointee, m), out var mn) ? mn : $"m{m}", off, Size(st[2 + m])));
                    }
                }
            }
            StorageBuffers = buffers.OrderBy(b => b.Set).ThenBy(b => b.Index).ToList();
            PushConstants = push.OrderBy(p => p.Offset).ToList();
            SpecConstantIds = decorations.Where(kv => kv.Value.ContainsKey(DecSpecId)).Select(kv => kv.Value[DecSpecId]).OrderBy(x => x).ToList();
        }

        private static string ReadString(uint[] w, int start, int end)
        {
            var bytes = new List<byte>();
            for (int i = start; i < end; i++)
                for (int s = 0; s < 32; s += 8)
                {
                    byte c = (byte)(w[i] >> s);
                    if (c == 0) return System.Text.Encoding.UTF8.GetString(bytes.ToArray());
                    bytes.Add(c);
                }
            return System.Text.Encoding.UTF8.GetString(bytes.ToArray());
        }
    }
}
