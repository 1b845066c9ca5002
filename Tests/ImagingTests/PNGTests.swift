import Foundation
import Imaging
import XCTest

/// The PNG fixtures come from Fixtures/make-png-fixtures.py (its own encoder, not libpng); these
/// formulas repeat the script's.
private let fixtureWidth = 13, fixtureHeight = 9
private func red(_ x: Int, _ y: Int) -> Int { (x * 19 + y * 7) % 256 }
private func green(_ x: Int, _ y: Int) -> Int { (x * 5 + y * 23) % 256 }
private func blue(_ x: Int, _ y: Int) -> Int { (x * y * 11) % 256 }
private func alpha(_ x: Int, _ y: Int) -> Int { (x * 20 + y * 3) % 256 }

func fixture(_ name: String) throws -> [UInt8] {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures").appendingPathComponent(name)
    return [UInt8](try Data(contentsOf: url))
}

final class PNGTests: XCTestCase {
    /// Decodes a fixture and compares every sample with `expected(x, y)`.
    private func check(_ name: String, channels: Int, tolerance: Int = 0,
                       _ expected: (Int, Int) -> [Int], file: StaticString = #filePath, line: UInt = #line) throws {
        let image = try decodePNG(try fixture(name))
        XCTAssertEqual(image.width, fixtureWidth, name, file: file, line: line)
        XCTAssertEqual(image.height, fixtureHeight, name, file: file, line: line)
        XCTAssertEqual(image.channels, channels, name, file: file, line: line)
        guard image.channels == channels else { return }
        var worst = 0
        for y in 0..<fixtureHeight {
            for x in 0..<fixtureWidth {
                let want = expected(x, y)
                // Colour under a fully transparent pixel carries no information.
                let visible = channels == 4 && want[3] == 0 ? 3..<4 : 0..<channels
                for c in visible { worst = max(worst, abs(Int(image[x, y, c]) - want[c])) }
            }
        }
        XCTAssertLessThanOrEqual(worst, tolerance, "\(name): largest sample error", file: file, line: line)
    }

    func testGray() throws {
        try check("gray8.png", channels: 1) { x, y in [red(x, y)] }
        try check("gray1.png", channels: 1) { x, y in [(x + y) % 2 * 255] }
        try check("gray16.png", channels: 1) { x, y in [red(x, y)] }
    }

    func testColour() throws {
        try check("rgb8.png", channels: 3) { x, y in [red(x, y), green(x, y), blue(x, y)] }
        try check("rgb16.png", channels: 3) { x, y in [red(x, y), green(x, y), blue(x, y)] }
    }

    func testAlphaKinds() throws {
        try check("rgba8.png", channels: 4) { x, y in [red(x, y), green(x, y), blue(x, y), alpha(x, y)] }
        try check("gray-alpha8.png", channels: 4) { x, y in [red(x, y), red(x, y), red(x, y), alpha(x, y)] }
    }

    func testPaletteWithTransparency() throws {
        let palette = [[200, 30, 40, 255], [20, 180, 60, 128], [10, 40, 220, 0], [250, 250, 250, 255]]
        try check("palette4-trns.png", channels: 4) { x, y in palette[(x + 2 * y) % 4] }
    }

    func testInterlaced() throws {
        try check("rgb8-interlaced.png", channels: 3) { x, y in [red(x, y), green(x, y), blue(x, y)] }
        try check("gray-alpha16-interlaced.png", channels: 4, tolerance: 1) { x, y in
            [red(x, y), red(x, y), red(x, y), alpha(x, y)]
        }
    }

    func testEncodeRoundTripsEveryChannelCount() throws {
        for channels in [1, 3, 4] {
            var image = Image(width: 21, height: 11, channels: channels)
            for i in image.pixels.indices { image.pixels[i] = UInt8((i * 37 + i / 7) % 256) }
            let file = try encodePNG(image)
            XCTAssertEqual(FileFormat(sniffing: file), .png)
            XCTAssertEqual(try decodePNG(file), image, "\(channels) channels")
        }
    }

    func testEncodeRejectsTwoChannels() {
        XCTAssertThrowsError(try encodePNG(Image(width: 2, height: 2, channels: 2)))
    }

    func testDamagedFilesThrow() throws {
        let good = try fixture("rgb8.png")
        XCTAssertThrowsError(try decodePNG(Array(good.prefix(good.count / 2)))) { error in
            guard case ImagingError.corrupt = error else { return XCTFail("\(error)") }
        }
        var flipped = good
        flipped[good.count - 30] ^= 0x55  // inside IDAT: the CRC no longer matches
        XCTAssertThrowsError(try decodePNG(flipped))
        XCTAssertThrowsError(try decodePNG(Array(good.prefix(8)) + [UInt8](repeating: 7, count: 100)))
        XCTAssertThrowsError(try decodePNG([]))
    }
}
