#include <cblas.h>
#include <stddef.h>

// LAPACK's symmetric eigensolver (divide and conquer). Debian's libopenblas exports LAPACK's Fortran
// entry points (dsyevd_) but is built without LAPACKE and ships no LAPACK header, so it is declared
// here as gfortran compiles it: every argument by reference, then the hidden lengths of the two
// character arguments.
void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda, double *w,
             double *work, const int *lwork, int *iwork, const int *liwork, int *info,
             size_t jobz_length, size_t uplo_length);
