import Imaging
import XCTest

final class ResizeTests: XCTestCase {
    func testConstantStaysConstantAtAnyRatio() {
        for (from, to) in [((97, 61), (64, 64)), ((10, 10), (37, 23)), ((300, 7), (13, 5)), ((5, 5), (1, 1))] {
            for colour in [[7, 200, 255], [0, 0, 0], [255, 255, 255]] as [[UInt8]] {
                let image = solidPicture(width: from.0, height: from.1, colour).resized(width: to.0, height: to.1)
                XCTAssertEqual([image.width, image.height], [to.0, to.1])
                XCTAssertEqual(image, solidPicture(width: to.0, height: to.1, colour), "\(from) -> \(to)")
            }
        }
    }

    func testCheckerboardShrinksToGrey() {
        var board = Image(width: 128, height: 96, channels: 1)
        for y in 0..<96 { for x in 0..<128 where (x + y) % 2 == 0 { board[x, y, 0] = 255 } }
        for (w, h) in [(16, 12), (13, 9), (64, 48)] {
            let small = board.resized(width: w, height: h)
            XCTAssertEqual(channelMeans(small)[0], 127.5, accuracy: 1, "\(w)x\(h)")
            // Where the kernel is cut at the border the average is a little off; inside it is exact.
            for value in small.pixels { XCTAssertEqual(Int(value), 128, accuracy: 5, "\(w)x\(h)") }
            for y in 3..<h - 3 {
                for x in 3..<w - 3 { XCTAssertEqual(Int(small[x, y, 0]), 128, accuracy: 1, "\(w)x\(h) (\(x), \(y))") }
            }
        }
    }

    /// Lanczos reproduces a linear ramp: shrinking 256 -> 64 averages groups of four, so the
    /// interior samples are 4x + 1.5.
    func testRampShrinksLinearly() {
        var ramp = Image(width: 256, height: 4, channels: 1)
        for y in 0..<4 { for x in 0..<256 { ramp[x, y, 0] = UInt8(x) } }
        let small = ramp.resized(width: 64, height: 4)
        for x in 3..<61 {
            XCTAssertEqual(Double(small[x, 2, 0]), 4 * Double(x) + 1.5, accuracy: 1, "x = \(x)")
        }
        let large = ramp.resized(width: 512, height: 4)
        for x in 8..<504 {
            XCTAssertEqual(Double(large[x, 1, 0]), (Double(x) + 0.5) / 2 - 0.5, accuracy: 1, "x = \(x)")
        }
    }

    func testSameSizeIsIdentity() {
        let picture = wavePicture(width: 20, height: 10, seed: 1)
        XCTAssertEqual(picture.resized(width: 20, height: 10), picture)
    }
}
