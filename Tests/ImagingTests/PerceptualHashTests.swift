import Imaging
import XCTest

final class PerceptualHashTests: XCTestCase {
    func testNearCopiesAreCloseAndOtherPicturesFar() throws {
        let pictures = (0..<8).map { scenePicture(width: 160, height: 120, seed: UInt64($0)) }
        let hashes = pictures.map { PerceptualHash(of: $0) }
        for (picture, hash) in zip(pictures, hashes) {
            // Recompressed hard and shrunk: still a near copy.
            let copy = try decodeJPEG(try encodeJPEG(picture.resized(width: 61, height: 47), quality: 50)).image
            XCTAssertLessThanOrEqual(PerceptualHash(of: copy).distance(to: hash), 4)
            XCTAssertEqual(PerceptualHash(of: picture).distance(to: hash), 0)
        }
        for i in hashes.indices {
            for j in hashes.indices where j > i {
                XCTAssertGreaterThan(hashes[i].distance(to: hashes[j]), 12, "pictures \(i) and \(j)")
            }
        }
    }

    func testDistanceCountsDifferingBits() {
        XCTAssertEqual(PerceptualHash(bits: 0b1011).distance(to: PerceptualHash(bits: 0b0110)), 3)
        XCTAssertEqual(PerceptualHash(bits: .max).distance(to: PerceptualHash(bits: 0)), 64)
        XCTAssertEqual(PerceptualHash(bits: 0xAB).description, "00000000000000ab")
    }
}
