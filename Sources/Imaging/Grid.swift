extension Image {
    /// `cells` tiled into one picture, left to right and top to bottom, in `columns` columns and `rows`
    /// rows (by default as many as the cells need), with `gap` pixels of `background` between the
    /// cells and around them; cells without a picture stay `background`. Contact sheets and previews.
    ///
    /// The cells must be non-empty, all of one size and channel count, and at most `columns * rows`.
    public static func grid(_ cells: [Image], columns: Int, rows: Int? = nil, gap: Int = 0,
                            background: UInt8 = 0) -> Image {
        precondition(!cells.isEmpty && columns > 0 && gap >= 0, "grid: no cells or a bad layout")
        let first = cells[0]
        let rows = rows ?? (cells.count + columns - 1) / columns
        precondition(cells.count <= columns * rows, "grid: \(cells.count) cells in \(columns)x\(rows)")
        precondition(cells.allSatisfy { ($0.width, $0.height, $0.channels) == (first.width, first.height, first.channels) },
                     "grid: cells of different sizes")
        let width = columns * first.width + (columns + 1) * gap
        let height = rows * first.height + (rows + 1) * gap
        var pixels = [UInt8](repeating: background, count: width * height * first.channels)
        let rowBytes = first.rowBytes
        for (index, cell) in cells.enumerated() {
            let left = gap + (index % columns) * (first.width + gap)
            let top = gap + (index / columns) * (first.height + gap)
            for y in 0..<first.height {
                let target = ((top + y) * width + left) * first.channels
                pixels.replaceSubrange(target..<(target + rowBytes), with: cell.pixels[(y * rowBytes)..<((y + 1) * rowBytes)])
            }
        }
        return Image(width: width, height: height, channels: first.channels, pixels: pixels)
    }
}
