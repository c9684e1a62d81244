/* Runs an ahead-of-time compiled FlashCompile MLP (libmlp.so + mlp.h, made
 * by `python3 examples/aot/export_mlp.py DIR`) with no compiler around:
 * reads the input and expected output written next to the library, runs
 * the model, and checks the result. Exit code 0 when it matches. */
#include "mlp.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int read_floats(const char *path, float *data, size_t count) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "cannot open %s\n", path);
    return 0;
  }
  size_t got = fread(data, sizeof(float), count, f);
  fclose(f);
  return got == count;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s DIR (with input.bin and expected.bin)\n", argv[0]);
    return 2;
  }
  enum { BATCH = 4, IN = 784, OUT = 10 };
  static float x[BATCH * IN], y[BATCH * OUT], expected[BATCH * OUT];
  char path[4096];
  snprintf(path, sizeof path, "%s/input.bin", argv[1]);
  if (!read_floats(path, x, BATCH * IN))
    return 2;
  snprintf(path, sizeof path, "%s/expected.bin", argv[1]);
  if (!read_floats(path, expected, BATCH * OUT))
    return 2;
  mlp(x, y);
  float worst = 0;
  for (int i = 0; i < BATCH * OUT; ++i) {
    float err = fabsf(y[i] - expected[i]) / (1e-4f + fabsf(expected[i]));
    if (err > worst)
      worst = err;
  }
  printf("mlp: y[0][0..3] = %.5f %.5f %.5f %.5f, worst relative error %.2e\n", y[0], y[1],
         y[2], y[3], worst);
  return worst < 1e-3f ? 0 : 1;
}
