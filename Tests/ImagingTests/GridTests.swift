import Imaging
import XCTest

final class GridTests: XCTestCase {
    /// A w x h picture whose every sample is `value`.
    private func flat(_ value: UInt8, width: Int = 2, height: Int = 3, channels: Int = 3) -> Image {
        Image(width: width, height: height, channels: channels,
              pixels: [UInt8](repeating: value, count: width * height * channels))
    }

    func testCellsGoLeftToRightThenDownWithGaps() {
        let cells = (1...5).map { flat(UInt8($0 * 10)) }
        let sheet = Image.grid(cells, columns: 2, gap: 1, background: 7)
        // 2 columns of 2 px and 3 rows of 3 px, with 1 px before, between and after each.
        XCTAssertEqual([sheet.width, sheet.height, sheet.channels], [7, 13, 3])
        for (index, value) in [10, 20, 30, 40, 50].enumerated() {
            let left = 1 + (index % 2) * 3, top = 1 + (index / 2) * 4
            for y in top..<(top + 3) {
                for x in left..<(left + 2) { XCTAssertEqual(sheet[x, y, 1], UInt8(value), "cell \(index) at \(x),\(y)") }
            }
        }
        // Gaps and the empty sixth cell are the background.
        for (x, y) in [(0, 0), (3, 5), (6, 12), (4, 9), (5, 11), (2, 4)] { XCTAssertEqual(sheet[x, y, 0], 7, "\(x),\(y)") }
    }

    func testFixedRowsWithoutGapsLeaveMissingCellsBlank() {
        let sheet = Image.grid([flat(200, channels: 1)], columns: 2, rows: 2)
        XCTAssertEqual([sheet.width, sheet.height, sheet.channels], [4, 6, 1])
        XCTAssertEqual(sheet.pixels.filter { $0 == 200 }.count, 6)
        XCTAssertEqual(sheet[1, 2, 0], 200)
        XCTAssertEqual(sheet[2, 0, 0], 0)
        XCTAssertEqual(sheet[0, 3, 0], 0)
    }
}
