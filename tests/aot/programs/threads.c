/* threads.c: the AOT test's concurrency program. Four threads each run their own model of the
 * lookup graph (a gather over a 100-row table) at the same time, 2 OpenMP workers per run;
 * thread 0 feeds one index out of range. Every run of thread 0 must fail with the gather's
 * message, no other thread's run may fail, and every valid row must be the table's row.
 * Prints "missed M stray S wrong W runs R". */
#include "lookup.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

enum { kThreads = 4, kRounds = 200 };

static int missed, stray, wrong, runs;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void *work(void *arg) {
  int t = (int)(long)arg, myMissed = 0, myStray = 0, myWrong = 0, myRuns = 0;
  kiln_model *m = kiln_model_create(&lookup_program);
  if (!m)
    return NULL;
  kiln_model_set_threads(m, 2);
  for (int r = 0; r < kRounds; ++r) {
    int32_t *ids = lookup_ids(m);
    for (int i = 0; i < LOOKUP_IDS_SIZE; ++i)
      ids[i] = (i + t + r) % 100;
    if (t == 0)
      ids[4000] = 1000; /* late in the loop: on the second worker */
    int rc = kiln_model_run(m, "predict");
    ++myRuns;
    if (t == 0 && (rc == 0 || !strstr(kiln_model_error(m), "index 1000")))
      ++myMissed;
    if (t != 0 && rc != 0)
      ++myStray;
    if (t != 0 && rc == 0) {
      const float *table = lookup_table(m), *rows = lookup_rows(m);
      for (int i = 0; i < LOOKUP_IDS_SIZE; ++i)
        if (memcmp(rows + i * 16, table + ((i + t + r) % 100) * 16, 16 * sizeof(float)) != 0) {
          ++myWrong;
          break;
        }
    }
  }
  kiln_model_destroy(m);
  pthread_mutex_lock(&lock);
  missed += myMissed;
  stray += myStray;
  wrong += myWrong;
  runs += myRuns;
  pthread_mutex_unlock(&lock);
  return NULL;
}

int main(void) {
  pthread_t threads[kThreads];
  for (long t = 0; t < kThreads; ++t)
    if (pthread_create(&threads[t], NULL, work, (void *)t) != 0)
      return 1;
  for (int t = 0; t < kThreads; ++t)
    pthread_join(threads[t], NULL);
  printf("missed %d stray %d wrong %d runs %d\n", missed, stray, wrong, runs);
  return 0;
}
