import COpenBLAS

/// The Fréchet distance between Gaussians fitted to two sets of feature vectors (Heusel et al. 2017's
/// FID when the features are Inception's): |μ₁ − μ₂|² + tr Σ₁ + tr Σ₂ − 2 tr (Σ₁^½ Σ₂ Σ₁^½)^½, with
/// the sample means and the unbiased sample covariances, in double precision. 0 for two sets with the
/// same mean and covariance; it grows with the sets' difference, and shrinks as they grow (it is
/// biased upwards for small sets), so compare figures of the same sample counts.
public enum FrechetDistance {
    public static func between(_ a: FeatureVectors, _ b: FeatureVectors) -> Double {
        precondition(a.length == b.length, "Fréchet distance between vectors of \(a.length) and \(b.length)")
        precondition(a.count >= 2 && b.count >= 2, "Fréchet distance needs at least two vectors in each set")
        let (first, second) = (Gaussian(a), Gaussian(b))
        let meanDistance = zip(first.mean, second.mean).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        return max(0, meanDistance + first.trace + second.trace - 2 * traceOfRoot(first, second))
    }

    /// A fitted Gaussian, its covariance held as a factor F (`rank` × `length`, row-major) with Σ = FᵀF.
    struct Gaussian {
        let mean: [Double]
        let factor: [Double]
        let rank: Int
        let length: Int
        /// tr Σ = |F|² (the sum of squares of F's entries).
        var trace: Double { factor.reduce(0) { $0 + $1 * $1 } }

        init(_ vectors: FeatureVectors) {
            let (n, length) = (vectors.count, vectors.length)
            var mean = [Double](repeating: 0, count: length)
            for i in 0..<n { for j in 0..<length { mean[j] += Double(vectors.values[i * length + j]) } }
            for j in 0..<length { mean[j] /= Double(n) }
            // The centred vectors over √(n − 1) are a factor already: Σ = XᵀX / (n − 1).
            let scale = 1 / Double(n - 1).squareRoot()
            var centred = [Double](repeating: 0, count: n * length)
            for i in 0..<n {
                for j in 0..<length { centred[i * length + j] = (Double(vectors.values[i * length + j]) - mean[j]) * scale }
            }
            self.mean = mean
            self.length = length
            guard n > length else {
                (factor, rank) = (centred, n)
                return
            }
            // More vectors than dimensions: the smaller factor comes from Σ's eigendecomposition,
            // Σ = V Λ Vᵀ = (Λ^½ Vᵀ)ᵀ (Λ^½ Vᵀ).
            var covariance = [Double](repeating: 0, count: length * length)
            cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, Int32(length), Int32(n), 1, centred, Int32(length),
                        0, &covariance, Int32(length))
            let eigenvalues = SymmetricEigen.decompose(&covariance, n: length, vectors: true)
            for (row, value) in eigenvalues.enumerated() {
                let root = max(0, value).squareRoot()  // rounding can leave a null direction a hair negative
                for j in 0..<length { covariance[row * length + j] *= root }
            }
            (factor, rank) = (covariance, length)
        }
    }

    /// tr (Σ₁^½ Σ₂ Σ₁^½)^½ from the factors Σ₁ = F₁ᵀF₁, Σ₂ = F₂ᵀF₂: the nonzero eigenvalues of Σ₁^½ Σ₂ Σ₁^½
    /// are those of Σ₁Σ₂ = F₁ᵀ(F₁F₂ᵀ)F₂, which are those of MMᵀ with M = F₁F₂ᵀ. So the trace is the sum
    /// of M's singular values, the square roots of the eigenvalues of the smaller of MMᵀ and MᵀM. With
    /// fewer vectors than dimensions, as few-shot sets have, every matrix here is as small as the sets.
    static func traceOfRoot(_ a: Gaussian, _ b: Gaussian) -> Double {
        let (rows, columns, length) = (Int32(a.rank), Int32(b.rank), Int32(a.length))
        var m = [Double](repeating: 0, count: a.rank * b.rank)
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, columns, length, 1, a.factor, length,
                    b.factor, length, 0, &m, columns)
        let side = min(a.rank, b.rank)
        var gram = [Double](repeating: 0, count: side * side)
        // MMᵀ (rows ≤ columns) or MᵀM, upper triangle.
        cblas_dsyrk(CblasRowMajor, CblasUpper, rows <= columns ? CblasNoTrans : CblasTrans, Int32(side),
                    rows <= columns ? columns : rows, 1, m, columns, 0, &gram, Int32(side))
        return SymmetricEigen.decompose(&gram, n: side, vectors: false).reduce(0) { $0 + max(0, $1).squareRoot() }
    }
}
