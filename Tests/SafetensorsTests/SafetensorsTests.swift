import Foundation
import Neural
import Safetensors
import XCTest

final class SafetensorsTests: XCTestCase {
    private func sampleFile() -> SafetensorsFile {
        SafetensorsFile(
            metadata: ["architecture": "dcgan", "note": "quote \" backslash \\ newline \n tab \t ü"],
            tensors: [
                "G.0.weight": SafetensorsTensor(floats: [1, -2.5, .pi, -0.0, 1e-30, 3e38], shape: [2, 3]),
                "rng.state": SafetensorsTensor(int64: [Int64.min, -1, 0, Int64.max], shape: [4]),
                "bytes": SafetensorsTensor(dtype: .u8, shape: [3], bytes: [0, 127, 255]),
                "empty": SafetensorsTensor(floats: [], shape: [0, 5]),
                "scalar": SafetensorsTensor(floats: [7], shape: []),
            ])
    }

    func testRoundTripKeepsEveryBitAndName() throws {
        let file = sampleFile()
        let bytes = file.serialized()
        let back = try SafetensorsFile(bytes: bytes)
        XCTAssertEqual(back, file)
        XCTAssertEqual(try back.tensors["G.0.weight"]!.floats().map(\.bitPattern),
                       ([1, -2.5, .pi, -0.0, 1e-30, 3e38] as [Float]).map(\.bitPattern))
        XCTAssertEqual(try back.tensors["rng.state"]!.int64s(), [Int64.min, -1, 0, Int64.max])
        // The same contents always serialise to the same bytes.
        XCTAssertEqual(back.serialized(), bytes)
    }

    func testLayoutIsTheDocumentedOne() throws {
        let bytes = SafetensorsFile(tensors: ["a": SafetensorsTensor(floats: [1.5], shape: [1])]).serialized()
        let headerLength = Int(bytes[0]) | Int(bytes[1]) << 8 | Int(bytes[2]) << 16 | Int(bytes[3]) << 24
        XCTAssertEqual(Array(bytes[4..<8]), [0, 0, 0, 0])
        XCTAssertEqual(headerLength % 8, 0, "data must start 8-byte aligned")
        let header = String(decoding: bytes[8..<(8 + headerLength)], as: UTF8.self)
        XCTAssertEqual(header.trimmingCharacters(in: .whitespaces),
                       #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#)
        XCTAssertEqual(Array(bytes[(8 + headerLength)...]), [0x00, 0x00, 0xC0, 0x3F], "1.5 little-endian")
    }

    func testReadsAHeaderWrittenByAnotherTool() throws {
        // Key order, whitespace and metadata position as Python's safetensors might write them.
        let header = #"{ "b" : {"dtype":"U8","shape":[2],"data_offsets":[4,6]}, "__metadata__":{"k":"v"},"#
            + #" "a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]} }"#
        var bytes = littleEndian64(header.utf8.count) + Array(header.utf8)
        bytes += [0, 0, 0x80, 0x3F, 9, 8]
        let file = try SafetensorsFile(bytes: bytes)
        XCTAssertEqual(file.metadata, ["k": "v"])
        XCTAssertEqual(try file.tensors["a"]!.floats(), [1])
        XCTAssertEqual(file.tensors["b"]!.bytes, [9, 8])
        // A reader can keep only the tensors it needs; the rest of the file is still checked.
        let onlyA = try SafetensorsFile(bytes: bytes, keeping: { $0 == "a" })
        XCTAssertEqual(Array(onlyA.tensors.keys), ["a"])
        XCTAssertEqual(try onlyA.tensors["a"]!.floats(), [1])
        XCTAssertThrowsError(try SafetensorsFile(bytes: Array(bytes.dropLast()), keeping: { $0 == "a" }))
    }

    func testRejectsEveryTruncation() {
        let bytes = sampleFile().serialized()
        for length in [0, 3, 7, 8, 20, bytes.count / 2, bytes.count - 1] {
            XCTAssertThrowsError(try SafetensorsFile(bytes: Array(bytes[0..<length])), "length \(length)")
        }
    }

    func testRejectsTrailingBytes() {
        let bytes = sampleFile().serialized() + [0]
        XCTAssertThrowsError(try SafetensorsFile(bytes: bytes)) { error in
            XCTAssertEqual(error as? SafetensorsError, .badLayout("1 unexpected bytes after the last tensor"))
        }
    }

    func testRejectsMalformedHeaders() {
        let cases: [(String, String)] = [
            ("not json", "{nope"),
            ("array", "[1,2]"),
            ("metadata not object", #"{"__metadata__":[1]}"#),
            ("metadata value", #"{"__metadata__":{"a":1}}"#),
            ("entry not object", #"{"a":3}"#),
            ("missing dtype", #"{"a":{"shape":[1],"data_offsets":[0,4]}}"#),
            ("unknown dtype", #"{"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}"#),
            ("negative shape", #"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#),
            ("fractional shape", #"{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}"#),
            ("boolean shape", #"{"a":{"dtype":"F32","shape":[true],"data_offsets":[0,4]}}"#),
            ("three offsets", #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}"#),
            ("reversed offsets", #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}"#),
            ("size mismatch", #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#),
            ("huge shape", #"{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}"#),
        ]
        for (label, header) in cases {
            let bytes = littleEndian64(header.utf8.count) + Array(header.utf8) + [0, 0, 0x80, 0x3F]
            XCTAssertThrowsError(try SafetensorsFile(bytes: bytes), label)
        }
    }

    func testRejectsOverlapGapAndOutOfRange() {
        let layouts: [(String, String, SafetensorsError)] = [
            ("overlap", #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}}"#,
             .badLayout("tensor 'b' overlaps the one before it")),
            ("same range", #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#,
             .badLayout("tensor 'b' overlaps the one before it")),
            ("gap", #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
             .badLayout("gap of 4 bytes before tensor 'a'")),
            ("out of range", #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}}"#,
             .truncated("tensor 'a' ends at byte 12 of a 8-byte data section")),
        ]
        for (label, header, expected) in layouts {
            let bytes = littleEndian64(header.utf8.count) + Array(header.utf8) + [UInt8](repeating: 0, count: 8)
            XCTAssertThrowsError(try SafetensorsFile(bytes: bytes), label) { error in
                XCTAssertEqual(error as? SafetensorsError, expected, label)
            }
        }
    }

    func testRejectsAbsurdHeaderLength() {
        var bytes = littleEndian64(Int(UInt32.max)) + Array("{}".utf8)
        XCTAssertThrowsError(try SafetensorsFile(bytes: bytes))
        bytes = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF] + Array("{}".utf8)
        XCTAssertThrowsError(try SafetensorsFile(bytes: bytes))
    }

    /// Random damage to a valid file never traps: each variant either parses (then it round-trips) or throws.
    func testRandomDamageIsRejectedOrParsedNeverACrash() {
        let bytes = sampleFile().serialized()
        var generator = RNG(seed: 42)
        var rejected = 0
        for trial in 0..<3000 {
            var damaged = bytes
            switch trial % 3 {
            case 0: damaged[generator.integer(below: damaged.count)] = UInt8(truncatingIfNeeded: generator.next32())
            case 1: damaged.removeLast(generator.integer(below: damaged.count))
            default:
                // Digits in the header are the offsets and shapes: swap one for another digit.
                let digits = damaged.indices.filter { $0 >= 8 && $0 < 200 && (48...57).contains(damaged[$0]) }
                damaged[digits[generator.integer(below: digits.count)]] = 48 + UInt8(generator.integer(below: 10))
            }
            if let file = try? SafetensorsFile(bytes: damaged) {
                XCTAssertEqual(try SafetensorsFile(bytes: file.serialized()), file)
            } else {
                rejected += 1
            }
        }
        XCTAssertGreaterThan(rejected, 1000)
    }

    func testWrongDTypeAccessorsThrow() {
        let tensor = SafetensorsTensor(int64: [1], shape: [1])
        XCTAssertThrowsError(try tensor.floats())
        XCTAssertThrowsError(try SafetensorsTensor(floats: [1], shape: [1]).int64s())
    }

    private func littleEndian64(_ value: Int) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: UInt64(value) >> (8 * UInt64($0))) }
    }
}
