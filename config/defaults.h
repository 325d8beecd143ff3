/* Compiled-in defaults. */
#ifndef MYDOCKER_DEFAULTS_H
#define MYDOCKER_DEFAULTS_H

#define DEFAULT_ROOT "/var/lib/mydocker"
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define DEFAULT_STOP_TIMEOUT 10	/* seconds before SIGKILL */
#define MAX_STATE_FILE (4u << 20)	/* a config.json larger than this is corrupt */

#endif
