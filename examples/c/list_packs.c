/*
 * list_packs: the rule packs bundled with libdrg, and the default pack.
 *
 *   list_packs            prints the JSON listing, then opens the default pack
 *                         ($DRG_PACK, else chs-drg-2.0) and prints its info
 *   list_packs ID...      opens each pack by id (or path) and prints its info
 *
 * Build: gcc -std=c11 -Wall -Wextra -Werror -I include examples/c/list_packs.c \
 *            -L target/release -ldrg -Wl,-rpath,$PWD/target/release -o list_packs
 */
#include <stdio.h>

#include "drg.h"

static int show(drg_grouper *g, const char *what) {
    if (!g) {
        fprintf(stderr, "%s: %s\n", what, drg_last_error());
        return 1;
    }
    char *info = drg_grouper_info_json(g);
    printf("%s\n", info);
    drg_string_free(info);
    drg_grouper_close(g);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 1) {
        char *list = drg_packs_json();
        if (!list) {
            fprintf(stderr, "%s\n", drg_last_error());
            return 1;
        }
        printf("%s\n", list);
        drg_string_free(list);
        return show(drg_grouper_open_default(0), "default pack");
    }
    int failed = 0;
    for (int i = 1; i < argc; i++) failed |= show(drg_grouper_open(argv[i]), argv[i]);
    return failed;
}
