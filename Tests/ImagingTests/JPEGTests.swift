import Foundation
import Imaging
import XCTest

final class JPEGTests: XCTestCase {
    func testRGBRoundTrip() throws {
        let picture = wavePicture(width: 96, height: 64, seed: 0)
        let decoded = try decodeJPEG(try encodeJPEG(picture, quality: 95))
        XCTAssertEqual(decoded.image.channels, 3)
        XCTAssertEqual([decoded.image.width, decoded.image.height, decoded.originalWidth, decoded.originalHeight],
                       [96, 64, 96, 64])
        XCTAssertLessThan(meanAbsoluteDifference(decoded.image, picture), 3)
    }

    func testGrayStaysOneChannel() throws {
        var gray = Image(width: 16, height: 16, channels: 1)
        for y in 0..<16 { for x in 0..<16 { gray[x, y, 0] = UInt8(x * 16) } }
        let decoded = try decodeJPEG(try encodeJPEG(gray, quality: 95)).image
        XCTAssertEqual(decoded.channels, 1)
        XCTAssertLessThan(meanAbsoluteDifference(decoded, gray), 3)
    }

    /// CMYK stored the Adobe way (inverted), plain and YCCK-transformed, reads back as the colours
    /// written, including saturated primaries and black, which an uninverted reading would swap.
    func testAdobeCMYKAndYCCK() throws {
        let colours: [[UInt8]] = [[255, 255, 255], [0, 0, 0], [220, 30, 30], [30, 200, 40], [40, 60, 210], [128, 128, 128]]
        for model in [JPEGColorModel.adobeCMYK, .adobeYCCK] {
            for colour in colours {
                let file = try encodeJPEG(solidPicture(width: 16, height: 16, colour), quality: 98, colorModel: model)
                let decoded = try decodeJPEG(file).image
                XCTAssertEqual(decoded.channels, 3)
                for (got, want) in zip(channelMeans(decoded), colour) {
                    XCTAssertEqual(got, Double(want), accuracy: 4, "\(model) \(colour)")
                }
            }
        }
    }

    /// An independent reader agrees on the inversion: ffmpeg decodes our Adobe CMYK file to the same
    /// colours we do.
    func testAdobeCMYKMatchesFFmpeg() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/ffmpeg") else { throw XCTSkip("no ffmpeg") }
        let picture = wavePicture(width: 64, height: 48, seed: 0)
        let file = try encodeJPEG(picture, quality: 95, colorModel: .adobeCMYK)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cmyk-\(UUID().uuidString).jpg")
        try Data(file).write(to: path)
        defer { try? FileManager.default.removeItem(at: path) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/ffmpeg")
        process.arguments = ["-v", "error", "-i", path.path, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let bytes = [UInt8](output.fileHandleForReading.readDataToEndOfFile())
        process.waitUntilExit()
        guard bytes.count == 64 * 48 * 3 else { return XCTFail("ffmpeg gave \(bytes.count) bytes") }
        let theirs = Image(width: 64, height: 48, channels: 3, pixels: bytes)
        XCTAssertLessThan(meanAbsoluteDifference(try decodeJPEG(file).image, theirs), 2)
        XCTAssertLessThan(meanAbsoluteDifference(theirs, picture), 3)
    }

    /// A 2x1-quadrant picture (left half red, right half blue, bottom strip green on the left,
    /// white on the right) stored with each EXIF orientation must come back upright as the table says.
    func testEveryExifOrientation() throws {
        let red: [UInt8] = [255, 0, 0], blue: [UInt8] = [0, 0, 255], green: [UInt8] = [0, 255, 0], white: [UInt8] = [255, 255, 255]
        // Stored: 48 wide, 32 tall; four 24x16 blocks: top-left red, top-right blue, bottom-left green, bottom-right white.
        var stored = Image(width: 48, height: 32)
        for y in 0..<32 {
            for x in 0..<48 {
                let colour = y < 16 ? (x < 24 ? red : blue) : (x < 24 ? green : white)
                for c in 0..<3 { stored[x, y, c] = colour[c] }
            }
        }
        // Displayed corners (top-left, top-right, bottom-left, bottom-right) for each orientation.
        let expected: [ExifOrientation: [[UInt8]]] = [
            .up: [red, blue, green, white],
            .mirrored: [blue, red, white, green],
            .upsideDown: [white, green, blue, red],
            .mirroredUpsideDown: [green, white, red, blue],
            .transposed: [red, green, blue, white],
            .rotatedClockwise: [green, red, white, blue],
            .transverse: [white, blue, green, red],
            .rotatedCounterClockwise: [blue, white, red, green],
        ]
        for orientation in ExifOrientation.allCases {
            let decoded = try decodeJPEG(try encodeJPEG(stored, quality: 95, orientation: orientation))
            let image = decoded.image
            let upright = orientation.swapsAxes ? (32, 48) : (48, 32)
            XCTAssertEqual(image.width, upright.0, "\(orientation)")
            XCTAssertEqual(image.height, upright.1, "\(orientation)")
            XCTAssertEqual(decoded.originalWidth, upright.0)
            let corners = [(4, 4), (image.width - 5, 4), (4, image.height - 5), (image.width - 5, image.height - 5)]
            for (corner, want) in zip(corners, expected[orientation]!) {
                let got = (0..<3).map { Int(image[corner.0, corner.1, $0]) }
                for c in 0..<3 {
                    XCTAssertEqual(got[c], Int(want[c]), accuracy: 12, "\(orientation) at \(corner)")
                }
            }
        }
    }

    func testExifParserReadsLittleEndianAndIgnoresJunk() {
        // Little-endian TIFF ("II"), one entry: orientation 6.
        let segment: [UInt8] = Array("Exif".utf8) + [0, 0, 0x49, 0x49, 42, 0, 8, 0, 0, 0, 1, 0,
                                                       0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0]
        XCTAssertEqual(ExifOrientation(exifSegment: segment), .rotatedClockwise)
        XCTAssertNil(ExifOrientation(exifSegment: Array(segment.prefix(20))))
        XCTAssertNil(ExifOrientation(exifSegment: Array("Exif".utf8) + [0, 0, 0x49, 0x49, 42, 0, 0xFF, 0xFF, 0xFF, 0x7F]))
        XCTAssertEqual(ExifOrientation(exifSegment: ExifOrientation.transverse.exifSegment), .transverse)
    }

    /// With a size hint, a large JPEG decodes at 1/2, 1/4 or 1/8 scale (never below the hint) and still
    /// looks like the full decode shrunk.
    func testScaledDecoding() throws {
        let picture = scenePicture(width: 800, height: 600, seed: 8)
        let file = try encodeJPEG(picture, quality: 90)
        let eighth = try decodeJPEG(file, hint: .shorterSide(atLeast: 64))
        XCTAssertEqual([eighth.image.width, eighth.image.height], [100, 75])
        XCTAssertEqual([eighth.originalWidth, eighth.originalHeight], [800, 600])
        let quarter = try decodeJPEG(file, hint: .shorterSide(atLeast: 100))
        XCTAssertEqual([quarter.image.width, quarter.image.height], [200, 150])
        let padded = try decodeJPEG(file, hint: .longerSide(atLeast: 200))
        XCTAssertEqual([padded.image.width, padded.image.height], [200, 150])
        let full = try decodeJPEG(file, hint: .shorterSide(atLeast: 5000))
        XCTAssertEqual([full.image.width, full.image.height], [800, 600])
        let reference = full.image.resized(width: 100, height: 75)
        XCTAssertLessThan(meanAbsoluteDifference(eighth.image, reference), 3)
    }

    func testDamagedFilesThrowInsteadOfExiting() throws {
        let file = try encodeJPEG(wavePicture(width: 64, height: 64, seed: 1), quality: 90)
        XCTAssertThrowsError(try decodeJPEG(Array(file.prefix(file.count / 2)))) { error in
            guard case ImagingError.corrupt = error else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try decodeJPEG(Array(file.prefix(3))))
        XCTAssertThrowsError(try decodeJPEG([0xFF, 0xD8, 0xFF] + [UInt8](repeating: 0, count: 200)))
        XCTAssertThrowsError(try decodeJPEG([]))
    }

    /// Arithmetic coding (SOF9) decodes, and its damaged data is an error as Huffman's is, not a garbage picture.
    func testArithmeticCodedFilesDecodeAndTheirDamageIsAnError() throws {
        let picture = wavePicture(width: 64, height: 64, seed: 5)
        let file = try encodeJPEG(picture, quality: 90, arithmetic: true)
        XCTAssertTrue(file.indices.dropLast().contains { file[$0] == 0xFF && file[$0 + 1] == 0xC9 }, "an SOF9 marker")
        XCTAssertLessThan(meanAbsoluteDifference(try decodeJPEG(file).image, picture), 3)
        // The scan's second half replaced by noise (without 0xFF, so no marker appears in it).
        var damaged = file
        var state: UInt32 = 7
        for index in (file.count / 2)..<(file.count - 2) {
            state = state &* 1_664_525 &+ 1_013_904_223
            damaged[index] = UInt8(truncatingIfNeeded: state >> 24) % 0xFF
        }
        XCTAssertThrowsError(try decodeJPEG(damaged)) { error in
            guard case ImagingError.corrupt = error else { return XCTFail("\(error)") }
        }
    }

    /// Random (but repeatable) damage anywhere in either format: every outcome is a picture or a thrown error.
    func testMutatedFilesNeverCrash() throws {
        let jpeg = try encodeJPEG(wavePicture(width: 48, height: 40, seed: 2), quality: 80)
        let png = try encodePNG(wavePicture(width: 30, height: 20, seed: 4))
        var generator = SeededGenerator(seed: 2026)
        for original in [jpeg, png] {
            for _ in 0..<150 {
                var damaged = original
                for _ in 0..<Int.random(in: 1...8, using: &generator) {
                    damaged[Int.random(in: 2..<damaged.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
                }
                if Bool.random(using: &generator) { damaged = Array(damaged.prefix(Int.random(in: 4..<damaged.count))) }
                if let decoded = try? decodeImage(damaged, hint: .shorterSide(atLeast: 8)) {
                    XCTAssertGreaterThan(decoded.image.pixels.count, 0)
                }
            }
        }
    }

    func testSniffingByContent() throws {
        XCTAssertEqual(FileFormat(sniffing: try fixture("gray8.png")), .png)
        XCTAssertEqual(FileFormat(sniffing: try encodeJPEG(solidPicture(width: 8, height: 8, [1, 2, 3]))), .jpeg)
        XCTAssertEqual(FileFormat(sniffing: Array("GIF89a".utf8) + [1, 0, 1, 0]), .video)
        XCTAssertEqual(FileFormat(sniffing: [0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x86, 0x81]), .video)
        XCTAssertEqual(FileFormat(sniffing: [0, 0, 0, 0x20] + Array("ftypisom".utf8)), .video)
        XCTAssertNil(FileFormat(sniffing: Array("hello, world\n".utf8)))
        XCTAssertNil(FileFormat(sniffing: [0xFF, 0xD8]))
        XCTAssertThrowsError(try decodeImage(Array("hello".utf8))) { error in
            XCTAssertEqual(error as? ImagingError, .unknownFormat)
        }
    }
}
