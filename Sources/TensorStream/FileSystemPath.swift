#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// File names on Linux are bytes, not text: a folder copied from an old camera or a Windows archive
/// may hold names that are not UTF-8 (`caf\xE9.jpg`). A Swift `String` cannot hold such bytes, and
/// decoding them the usual way replaces them with U+FFFD, naming a file that does not exist. So each
/// byte that is not part of valid UTF-8 is carried as a character of Unicode's last private-use block,
/// U+10FF80 + (byte - 0x80), and turned back into the byte when the path is handed to the system.
/// A name that really holds a character of that block has its four bytes carried one by one the same
/// way, so every byte sequence maps to one string and back without loss.
public enum FileSystemPath {
    private static let escapeBase: UInt32 = 0x10_FF00

    /// The path of the file-system bytes `bytes` (a NUL ends it), losing nothing.
    public static func string<C: Collection<UInt8>>(fromBytes bytes: C) -> String {
        var text = String.UnicodeScalarView()
        var rest = Array(bytes.prefix { $0 != 0 })[...]
        func carry(_ byte: UInt8) { text.append(Unicode.Scalar(escapeBase + UInt32(byte))!) }
        while !rest.isEmpty {
            // The longest valid UTF-8 run, then one byte that is not.
            var decoder = UTF8()
            var iterator = rest.makeIterator()
            var consumed = 0
            while case .scalarValue(let scalar) = decoder.decode(&iterator) {
                let width = UTF8.width(scalar)
                if isCarried(scalar) {
                    // A real character of the carrying block: its bytes are carried, or it would read
                    // back as the single byte it stands for.
                    rest[(rest.startIndex + consumed)...].prefix(width).forEach(carry)
                } else {
                    text.append(scalar)
                }
                consumed += width
            }
            rest = rest.dropFirst(consumed)
            if let byte = rest.first {
                carry(byte)
                rest = rest.dropFirst()
            }
        }
        return String(text)
    }

    /// The bytes the system knows `path` by (`string(fromBytes:)` undone), NUL-terminated.
    public static func bytes(of path: String) -> [CChar] {
        var bytes: [CChar] = []
        for scalar in path.unicodeScalars {
            if let byte = carriedByte(scalar) {
                bytes.append(CChar(bitPattern: byte))
            } else {
                bytes += String(scalar).utf8.map { CChar(bitPattern: $0) }
            }
        }
        return bytes + [0]
    }

    /// The byte `scalar` carries, or nil for an ordinary character.
    public static func carriedByte(_ scalar: Unicode.Scalar) -> UInt8? {
        isCarried(scalar) ? UInt8(scalar.value - escapeBase) : nil
    }

    private static func isCarried(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value >= escapeBase + 0x80 && scalar.value <= escapeBase + 0xFF
    }

    /// The command line's arguments (without the program's name), keeping bytes that are not UTF-8:
    /// a path typed or globbed by the shell reaches the tool whole.
    public static func commandLineArguments() -> [String] {
        (1..<Int(CommandLine.argc)).map { index in
            guard let argument = CommandLine.unsafeArgv[index] else { return "" }
            return string(fromBytes: UnsafeRawBufferPointer(start: argument, count: strlen(argument)))
        }
    }

    /// Runs `body` with the C path of `path`.
    public static func withCString<T>(_ path: String, _ body: (UnsafePointer<CChar>) throws -> T) rethrows -> T {
        try bytes(of: path).withUnsafeBufferPointer { try body($0.baseAddress!) }
    }

    /// The entries of the folder `path` (not `.` and `..`) as paths that keep their bytes; nil when it
    /// cannot be read.
    public static func entries(of path: String) -> [String]? {
        guard let folder = withCString(path, { opendir($0) }) else { return nil }
        defer { closedir(folder) }
        var names: [String] = []
        while let entry = readdir(folder) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { string(fromBytes: $0) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}
