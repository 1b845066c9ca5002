/// Text that reaches a terminal in a message. File names and quoted file content are not to be trusted:
/// an escape sequence in them would drive the user's terminal (retitle it, clear it, hide what follows),
/// a line break would forge a second message, and a header of megabytes would be one line of megabytes.
/// Every message goes through `escaped` where it is written, and content taken from a file goes into a
/// message through `quoted`.
public enum MessageText {
    /// The most characters of file content a message quotes.
    public static let quotedLength = 80

    /// `text` safe to print on one line: control characters (C0, DEL, C1), the line and paragraph
    /// separators and the bidirectional overrides shown as escapes (`\n`, `\x1B`, `\u{202E}`), and each
    /// byte a file name carries that is not UTF-8 (see `FileSystemPath`) as `\xE9`.
    public static func escaped(_ text: String) -> String {
        var shown = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if let byte = FileSystemPath.carriedByte(scalar) {
                shown.append(contentsOf: "\\x\(hex(UInt32(byte)))".unicodeScalars)
            } else if let escape = escape(for: scalar) {
                shown.append(contentsOf: escape.unicodeScalars)
            } else {
                shown.append(scalar)
            }
        }
        return String(shown)
    }

    /// Content from a file (a metadata value, a tensor name) for a message: in single quotes, escaped,
    /// and cut after `quotedLength` characters with the length it had: `'{"a":[[[[…' (409600 characters)`.
    public static func quoted(_ text: String) -> String {
        let scalars = text.unicodeScalars
        guard scalars.count > quotedLength else { return "'\(escaped(text))'" }
        let kept = String(String.UnicodeScalarView(scalars.prefix(quotedLength)))
        return "'\(escaped(kept))…' (\(scalars.count) characters)"
    }

    private static func escape(for scalar: Unicode.Scalar) -> String? {
        switch scalar.value {
        case 0x0A: return "\\n"
        case 0x0D: return "\\r"
        case 0x09: return "\\t"
        case 0x00..<0x20, 0x7F: return "\\x\(hex(scalar.value))"
        // C1 controls (0x9B is a one-byte CSI to some terminals), line and paragraph separators,
        // bidirectional embeddings, overrides and isolates (they reorder what the user reads).
        case 0x80..<0xA0, 0x2028, 0x2029, 0x202A...0x202E, 0x2066...0x2069, 0x200E, 0x200F:
            return "\\u{\(hex(scalar.value))}"
        default: return nil
        }
    }

    private static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return digits.count % 2 == 0 ? digits : "0" + digits
    }
}

/// `1 frame`, `2 frames`: a count and its noun, singular for one. `plural` defaults to `singular` + s.
public func counted(_ count: Int, _ singular: String, plural: String? = nil) -> String {
    "\(count) " + (count == 1 ? singular : plural ?? singular + "s")
}
