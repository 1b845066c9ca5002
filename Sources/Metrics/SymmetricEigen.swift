import COpenBLAS

/// Eigenvalues (and optionally eigenvectors) of a real symmetric matrix, in double precision, through
/// LAPACK's divide-and-conquer solver `dsyevd` in OpenBLAS.
enum SymmetricEigen {
    /// The eigenvalues of the symmetric `n` × `n` `matrix`, ascending; only the upper triangle of its
    /// row-major values is read. With `vectors`, `matrix` is overwritten so that its row i is the unit
    /// eigenvector of eigenvalue i; otherwise it is destroyed.
    static func decompose(_ matrix: inout [Double], n: Int, vectors: Bool) -> [Double] {
        precondition(matrix.count == n * n, "eigen: \(matrix.count) values are not \(n) x \(n)")
        guard n > 0 else { return [] }
        // A symmetric matrix is its own transpose, so the row-major values are the column-major matrix,
        // and the eigenvectors LAPACK writes as columns read here as rows.
        var values = [Double](repeating: 0, count: n)
        var (size, info) = (Int32(n), Int32(0))
        let (job, upper): (CChar, CChar) = (vectors ? 0x56 : 0x4E, 0x4C)  // "V" or "N"; "L"
        var (workQuery, iworkQuery, query) = (0.0, Int32(0), Int32(-1))
        dsyevd_([job], [upper], &size, &matrix, &size, &values, &workQuery, &query, &iworkQuery, &query, &info, 1, 1)
        precondition(info == 0, "dsyevd workspace query failed: info \(info)")
        var (lwork, liwork) = (Int32(workQuery), iworkQuery)
        var work = [Double](repeating: 0, count: Int(lwork))
        var iwork = [Int32](repeating: 0, count: Int(liwork))
        dsyevd_([job], [upper], &size, &matrix, &size, &values, &work, &lwork, &iwork, &liwork, &info, 1, 1)
        // info > 0: the iteration did not converge, which a finite symmetric matrix does not cause.
        precondition(info == 0, "dsyevd failed on a \(n) x \(n) matrix: info \(info)")
        return values
    }
}
