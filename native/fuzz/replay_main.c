/*
 * Runs a fuzz target's LLVMFuzzerTestOneInput over files, without libFuzzer, so the seed
 * corpus and every saved crash (regressions/) replay as ordinary ctest tests with any
 * compiler, sanitizers or valgrind. Usage: <target>_replay FILE|DIR...
 */
#define _DEFAULT_SOURCE
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static long replayed;

static int replay_file(const char *path)
{
    FILE *file = fopen(path, "rb");
    if (file == NULL) {
        perror(path);
        return 1;
    }
    uint8_t *data = NULL;
    size_t size = 0;
    size_t capacity = 0;
    for (;;) {
        if (size == capacity) {
            capacity = capacity ? capacity * 2 : 4096;
            uint8_t *grown = realloc(data, capacity);
            if (grown == NULL) {
                free(data);
                fclose(file);
                return 1;
            }
            data = grown;
        }
        const size_t got = fread(data + size, 1, capacity - size, file);
        if (got == 0) {
            break;
        }
        size += got;
    }
    fclose(file);
    LLVMFuzzerTestOneInput(data, size);
    free(data);
    ++replayed;
    return 0;
}

static int replay(const char *path)
{
    struct stat status;
    if (stat(path, &status) != 0) {
        perror(path);
        return 1;
    }
    if (!S_ISDIR(status.st_mode)) {
        return replay_file(path);
    }
    DIR *dir = opendir(path);
    if (dir == NULL) {
        perror(path);
        return 1;
    }
    int failures = 0;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        if (entry->d_name[0] == '.') {
            continue; /* ., .. and .gitkeep */
        }
        char child[4096];
        snprintf(child, sizeof child, "%s/%s", path, entry->d_name);
        failures += replay(child);
    }
    closedir(dir);
    return failures;
}

int main(int argc, char **argv)
{
    int failures = 0;
    for (int i = 1; i < argc; ++i) {
        failures += replay(argv[i]);
    }
    printf("replayed %ld inputs (a failing input aborts)\n", replayed);
    return failures == 0 && replayed > 0 ? 0 : 1;
}
