import Imaging
import XCTest

final class CompositingTests: XCTestCase {
    func testAlphaIsLaidOnTheBackground() {
        let rgba = Image(width: 3, height: 1, channels: 4, pixels: [200, 100, 0, 255, 200, 100, 0, 0, 200, 100, 0, 128])
        let flat = rgba.flattened(on: RGBColor(red: 0, green: 0, blue: 255))
        XCTAssertEqual(flat.channels, 3)
        XCTAssertEqual(Array(flat.pixels[0..<6]), [200, 100, 0, 0, 0, 255])
        XCTAssertEqual(Array(flat.pixels[6..<9]), [100, 50, 127])
        let grayAlpha = Image(width: 1, height: 1, channels: 2, pixels: [255, 0])
        XCTAssertEqual(grayAlpha.flattened(on: .black).pixels, [0, 0, 0])
        XCTAssertEqual(Image(width: 1, height: 1, channels: 1, pixels: [9]).flattened().pixels, [9, 9, 9])
    }

    func testHexColours() {
        XCTAssertEqual(RGBColor(hex: "ff8000"), RGBColor(red: 255, green: 128, blue: 0))
        XCTAssertEqual(RGBColor(hex: "#0A0b0C"), RGBColor(red: 10, green: 11, blue: 12))
        XCTAssertNil(RGBColor(hex: "fff"))
        XCTAssertNil(RGBColor(hex: "gg0000"))
        XCTAssertNil(RGBColor(hex: "+12345"))
    }

    func testCropKeepsTheCentre() {
        // 30x10: left and right thirds black, the centre square white.
        var wide = Image(width: 30, height: 10)
        for y in 0..<10 { for x in 10..<20 { for c in 0..<3 { wide[x, y, c] = 255 } } }
        XCTAssertEqual(wide.squared(size: 10, fit: .crop), solidPicture(width: 10, height: 10, [255, 255, 255]))
        let tall = wide.applying(.rotatedClockwise)
        XCTAssertEqual(tall.squared(size: 5, fit: .crop), solidPicture(width: 5, height: 5, [255, 255, 255]))
    }

    /// Squaring works row by row, without copies (issue 18, item 9), and gives exactly what flattening,
    /// cutting the centre square and resizing give one after the other.
    func testSquaringInOnePassEqualsFlatteningCroppingAndResizing() {
        let background = RGBColor(red: 10, green: 200, blue: 90)
        for channels in 1...4 {
            for (width, height, size) in [(37, 23, 16), (23, 37, 64), (40, 40, 40), (41, 19, 19)] {
                let rgb = wavePicture(width: width, height: height, seed: channels)
                let samples: [UInt8] = (0..<width * height * channels).map { i in rgb.pixels[i % rgb.pixels.count] &+ UInt8(i % 7) }
                let picture = Image(width: width, height: height, channels: channels, pixels: samples)
                let flat = picture.flattened(on: background)
                let side = min(width, height), left = (width - side) / 2, top = (height - side) / 2
                var centrePixels: [UInt8] = []
                for row in top..<top + side {
                    let start = (row * width + left) * 3
                    centrePixels += flat.pixels[start..<start + side * 3]
                }
                let centre = Image(width: side, height: side, channels: 3, pixels: centrePixels)
                XCTAssertEqual(picture.squared(size: size, fit: .crop, background: background),
                               centre.resized(width: size, height: size), "\(channels) channels, \(width)x\(height) to \(size)")
            }
        }
    }

    func testPadFillsTheMarginsWithTheBackground() {
        let red = solidPicture(width: 20, height: 10, [255, 0, 0])
        let square = red.squared(size: 8, fit: .pad, background: RGBColor(red: 0, green: 0, blue: 255))
        XCTAssertEqual([square.width, square.height], [8, 8])
        for y in 0..<8 {
            let want: [UInt8] = (2..<6).contains(y) ? [255, 0, 0] : [0, 0, 255]
            for x in 0..<8 { XCTAssertEqual((0..<3).map { square[x, y, $0] }, want, "(\(x), \(y))") }
        }
    }

    func testFlipMirrorsAndUndoesItself() {
        let picture = wavePicture(width: 7, height: 3, seed: 5)
        let flipped = picture.flippedHorizontally()
        XCTAssertEqual(flipped[0, 1, 2], picture[6, 1, 2])
        XCTAssertEqual(flipped[2, 2, 0], picture[4, 2, 0])
        XCTAssertNotEqual(flipped, picture)
        XCTAssertEqual(flipped.flippedHorizontally(), picture)
    }
}
