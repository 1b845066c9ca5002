/// Average pooling, PyTorch's `nn.AvgPool2d(kernel, stride)`: no padding, floor mode (windows that
/// would cross the bottom or right edge are dropped). stride defaults to the kernel.
public final class AvgPool2d: Layer {
    public let kernel, stride: Int
    private let pool: WindowAverage

    public init(kernel: Int, stride: Int? = nil) {
        let stride = stride ?? kernel
        precondition(kernel > 0 && stride > 0)
        (self.kernel, self.stride) = (kernel, stride)
        pool = WindowAverage(outputLength: { ($0 - kernel) / stride + 1 }, window: { index, _ in (index * stride)..<(index * stride + kernel) })
    }

    // x: N × C × H × W → y: N × C × Ho × Wo, Ho = (H − k)/s + 1
    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        precondition(input.shape.count == 4 && input.shape[2] >= kernel && input.shape[3] >= kernel,
                     "AvgPool2d(\(kernel)) got \(input.shape)")
        return pool.forward(input)
    }

    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool, needsParameterGradients: Bool) -> Tensor? {
        needsInputGradient ? pool.backward(outputGradient) : nil
    }
}

/// Adaptive average pooling to a square output, PyTorch's `nn.AdaptiveAvgPool2d(size)`: output index i
/// averages input rows floor(i·H/size) ..< ceil((i + 1)·H/size), likewise for columns (the windows of
/// neighbours overlap when H is not a multiple of size).
public final class AdaptiveAvgPool2d: Layer {
    public let outputSize: Int
    private let pool: WindowAverage

    public init(_ outputSize: Int) {
        precondition(outputSize > 0)
        self.outputSize = outputSize
        pool = WindowAverage(outputLength: { _ in outputSize },
                             window: { index, length in (index * length / outputSize)..<(((index + 1) * length + outputSize - 1) / outputSize) })
    }

    // x: N × C × H × W → y: N × C × size × size
    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        precondition(input.shape.count == 4 && input.shape[2] > 0 && input.shape[3] > 0, "AdaptiveAvgPool2d got \(input.shape)")
        return pool.forward(input)
    }

    public func backward(_ outputGradient: Tensor, needsInputGradient: Bool, needsParameterGradients: Bool) -> Tensor? {
        needsInputGradient ? pool.backward(outputGradient) : nil
    }
}

/// The averaging both pools share: output pixel (y, x) is the mean of the input rows `rows[y]` and
/// columns `columns[x]`. The windows are rebuilt only when the input size changes.
final class WindowAverage {
    private let outputLength: (Int) -> Int
    private let window: (_ index: Int, _ inputLength: Int) -> Range<Int>
    private var rows: [Range<Int>] = []
    private var columns: [Range<Int>] = []
    private var inputSize = (height: -1, width: -1)
    private var inputShape = (n: 0, c: 0)
    private let output = Tensor(shape: [0])
    private let inputGradient = Tensor(shape: [0])

    init(outputLength: @escaping (Int) -> Int, window: @escaping (_ index: Int, _ inputLength: Int) -> Range<Int>) {
        (self.outputLength, self.window) = (outputLength, window)
    }

    // x: N × C × H × W → y: N × C × rows × columns
    func forward(_ input: Tensor) -> Tensor {
        let (n, c, h, w) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        if inputSize != (h, w) {
            rows = (0..<outputLength(h)).map { window($0, h) }
            columns = (0..<outputLength(w)).map { window($0, w) }
            inputSize = (h, w)
        }
        inputShape = (n, c)
        let (oh, ow) = (rows.count, columns.count)
        output.resize(n, c, oh, ow)
        let (x, y) = (UnsafePointer(input.data), output.data)
        let (rows, columns) = (rows, columns)
        Parallel.chunks(n * c, cost: h * w) { planes in
            for plane in planes {
                let (image, out) = (x + plane * h * w, y + plane * oh * ow)
                for (oy, rowRange) in rows.enumerated() {
                    for (ox, columnRange) in columns.enumerated() {
                        var total: Float = 0
                        for row in rowRange {
                            for column in columnRange { total += image[row * w + column] }
                        }
                        out[oy * ow + ox] = total / Float(rowRange.count * columnRange.count)
                    }
                }
            }
        }
        return output
    }

    // dy: N × C × rows × columns → dx: N × C × H × W, each window's gradient spread evenly over it
    func backward(_ outputGradient: Tensor) -> Tensor {
        let (n, c, h, w) = (inputShape.n, inputShape.c, inputSize.height, inputSize.width)
        let (oh, ow) = (rows.count, columns.count)
        precondition(outputGradient.count == n * c * oh * ow, "average pooling backward: gradient \(outputGradient.shape)")
        inputGradient.resize(n, c, h, w)
        let (dy, dx) = (UnsafePointer(outputGradient.data), inputGradient.data)
        let (rows, columns) = (rows, columns)
        Parallel.chunks(n * c, cost: h * w) { planes in
            for plane in planes {
                let (image, gradient) = (dx + plane * h * w, dy + plane * oh * ow)
                image.update(repeating: 0, count: h * w)
                for (oy, rowRange) in rows.enumerated() {
                    for (ox, columnRange) in columns.enumerated() {
                        let share = gradient[oy * ow + ox] / Float(rowRange.count * columnRange.count)
                        for row in rowRange {
                            for column in columnRange { image[row * w + column] += share }
                        }
                    }
                }
            }
        }
        return inputGradient
    }
}
