import Foundation

/// A float32 tensor with an explicit shape (row-major; images are NCHW).
///
/// A reference type that owns its memory: layers keep their output and gradient tensors and
/// reuse them from step to step, so a warmed-up training step allocates no tensor memory.
/// Use `copy()` for an independent value.
public final class Tensor {
    /// Sizes of the dimensions, outermost first.
    public private(set) var shape: [Int]
    /// Number of elements (the product of `shape`).
    public private(set) var count: Int
    private var capacity: Int
    /// The elements; valid for `count` floats until the next `resize`.
    public private(set) var data: UnsafeMutablePointer<Float>

    /// A tensor of zeros.
    public init(shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        self.shape = shape
        count = shape.reduce(1, *)
        capacity = max(count, 1)
        data = .allocate(capacity: capacity)
        data.initialize(repeating: 0, count: capacity)
        Tensor.countAllocation()
    }

    /// A tensor holding `scalars` (row-major); their number must match the shape.
    public convenience init(shape: [Int], scalars: [Float]) {
        self.init(shape: shape)
        precondition(scalars.count == count, "\(scalars.count) scalars for shape \(shape)")
        scalars.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: count) }
    }

    /// A tensor with every element equal to `value`.
    public convenience init(shape: [Int], repeating value: Float) {
        self.init(shape: shape)
        fill(value)
    }

    deinit { data.deallocate() }

    /// The elements as an array (a copy).
    public var scalars: [Float] { Array(buffer) }

    /// The elements as a buffer (no copy; valid until the next `resize`).
    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: data, count: count) }

    public subscript(index: Int) -> Float {
        get { precondition(index >= 0 && index < count); return data[index] }
        set { precondition(index >= 0 && index < count); data[index] = newValue }
    }

    /// An independent copy.
    public func copy() -> Tensor {
        let result = Tensor(shape: shape)
        result.data.update(from: data, count: count)
        return result
    }

    /// Changes the shape and element count; keeps the storage when it is large enough.
    /// The contents are unspecified afterwards.
    public func resize(to newShape: [Int]) {
        precondition(newShape.allSatisfy { $0 >= 0 }, "negative dimension in \(newShape)")
        let newCount = newShape.reduce(1, *)
        growStorage(newCount)
        shape = newShape
        count = newCount
    }

    /// `resize(to: [n, c, h, w])` without allocating once the tensor is 4-D and its storage large enough:
    /// D sees batches of 2N and N in every step, so its tensors change shape twice a step.
    public func resize(_ n: Int, _ c: Int, _ h: Int, _ w: Int) {
        if shape.count == 4 && shape[0] == n && shape[1] == c && shape[2] == h && shape[3] == w { return }
        guard shape.count == 4 else { return resize(to: [n, c, h, w]) }
        precondition(n >= 0 && c >= 0 && h >= 0 && w >= 0, "negative dimension in \([n, c, h, w])")
        growStorage(n * c * h * w)
        (shape[0], shape[1], shape[2], shape[3]) = (n, c, h, w)  // in place: the array is not reallocated
        count = n * c * h * w
    }

    private func growStorage(_ needed: Int) {
        guard needed > capacity else { return }
        data.deallocate()
        capacity = needed
        data = .allocate(capacity: capacity)
        data.initialize(repeating: 0, count: capacity)
        Tensor.countAllocation()
    }

    private static let allocationLock = NSLock()
    nonisolated(unsafe) private static var allocations = 0

    private static func countAllocation() {
        allocationLock.lock()
        allocations += 1
        allocationLock.unlock()
    }

    /// How many times tensor storage has been allocated in this process (new tensors and growth).
    /// A warmed-up training step leaves it unchanged; tests check that.
    public static var storageAllocations: Int {
        allocationLock.lock()
        defer { allocationLock.unlock() }
        return allocations
    }

    /// Sets every element to `value`.
    public func fill(_ value: Float) { data.update(repeating: value, count: count) }

    /// Becomes a copy of `other` (shape and elements).
    public func assign(_ other: Tensor) {
        if shape != other.shape { resize(to: other.shape) }
        data.update(from: other.data, count: count)
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String { "Tensor\(shape)" }
}
