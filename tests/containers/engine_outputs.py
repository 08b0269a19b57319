"""Hand-written outputs of ``docker info``, ``docker version`` and ``docker system df`` in the
states and layouts the shared samples lack. The engine parser tests read them, and the property
tests damage them."""

from __future__ import annotations

# Hand-written: what docker 24 prints to stdout and stderr (2>&1) for a user outside the docker
# group. The Server: section holds only the error.
INFO_PERMISSION_DENIED = """\
Client: Docker Engine - Community
 Version:    24.0.7
 Context:    default
 Debug Mode: false
 Plugins:
  buildx: Docker Buildx (Docker Inc.)
    Version:  v0.11.2
    Path:     /usr/libexec/docker/cli-plugins/docker-buildx

Server:
ERROR: permission denied while trying to connect to the Docker daemon socket at \
unix:///var/run/docker.sock: Get "http://%2Fvar%2Frun%2Fdocker.sock/v1.24/info": dial unix \
/var/run/docker.sock: connect: permission denied
errors pretty printing info
"""

# Hand-written in the layout of docker 18.09 and older: no Client:/Server: sections.
INFO_BEFORE_19_03 = """\
Containers: 3
 Running: 1
 Paused: 0
 Stopped: 2
Images: 12
Server Version: 18.09.1
Storage Driver: overlay2
 Backing Filesystem: extfs
 Supports d_type: true
Logging Driver: json-file
Cgroup Driver: cgroupfs
Plugins:
 Volume: local
 Network: bridge host macvlan null overlay
Swarm: inactive
Security Options:
 apparmor
 seccomp
  Profile: default
Kernel Version: 4.15.0-45-generic
Operating System: Ubuntu 18.04.2 LTS
OSType: linux
Architecture: x86_64
CPUs: 4
Total Memory: 7.675GiB
Docker Root Dir: /var/lib/docker
Debug Mode (client): false
Debug Mode (server): false
Labels:
Live Restore Enabled: false

WARNING: No swap limit support
"""

# Hand-written: a daemon listening on TCP without TLS; its warning wraps onto indented lines.
INFO_WITH_WRAPPED_WARNING = """\
Client:
 Version:    26.1.4
 Context:    default
 Debug Mode: false

Server:
 Containers: 0
  Running: 0
  Paused: 0
  Stopped: 0
 Images: 1
 Server Version: 26.1.4
 Swarm: active
  NodeID: qo2dfdig9mmxqkawulggepdih
  Is Manager: true
  Manager Addresses:
   165.227.107.89:2377
 Kernel Version: 6.1.0-21-amd64
 CPUs: 2
 Total Memory: 1.953GiB
 Default Address Pools:
   Base: 10.123.0.0/16, Size: 24

WARNING: API is accessible on http://0.0.0.0:2375 without encryption.
         Access to the remote API is equivalent to root access on the host. Refer
         to the 'Docker daemon attack surface' section in the documentation for
         more information: https://docs.docker.com/go/attack-surface/
WARNING: No swap limit support
"""

# Hand-written: with a --format, docker renders an all-zero Info when the daemon fails, then
# repeats the error on stderr.
INFO_JSON_DAEMON_DOWN = (
    '{"ID":"","Containers":0,"ContainersRunning":0,"ContainersPaused":0,"ContainersStopped":0,'
    '"Images":0,"Driver":"","NCPU":0,"MemTotal":0,"ServerVersion":"","OSType":"",'
    '"Swarm":{"NodeID":"","LocalNodeState":""},"Warnings":null,'
    '"ServerErrors":["Cannot connect to the Docker daemon at unix:///var/run/docker.sock. '
    'Is the docker daemon running?"],"ClientInfo":{"Debug":false,"Version":"24.0.7",'
    '"Context":"default","Plugins":[],"Warnings":null}}\n'
    "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
    "Is the docker daemon running?\n"
)

# Hand-written in the layout of docker 17.03: no Engine: subsection under Server:.
VERSION_17_03_TEXT = """\
Client:
 Version:      17.03.0-ce
 API version:  1.26
 Go version:   go1.7.5
 Git commit:   60ccb22
 Built:        Thu Feb 23 10:40:59 2017
 OS/Arch:      darwin/amd64

Server:
 Version:      17.03.0-ce
 API version:  1.26 (minimum version 1.12)
 Go version:   go1.7.5
 Git commit:   3a232c8
 Built:        Tue Feb 28 07:52:04 2017
 OS/Arch:      linux/amd64
 Experimental: true
"""

# Hand-written: docker 24 without access to the socket prints the Client section, then the error.
VERSION_NO_SERVER_TEXT = """\
Client: Docker Engine - Community
 Version:           24.0.7
 API version:       1.43
 Go version:        go1.20.10
 Git commit:        afdd53b
 Built:             Thu Oct 26 09:07:41 2023
 OS/Arch:           linux/amd64
 Context:           default
permission denied while trying to connect to the Docker daemon socket at \
unix:///var/run/docker.sock: Get "http://%2Fvar%2Frun%2Fdocker.sock/v1.24/version": dial unix \
/var/run/docker.sock: connect: permission denied
"""

# Hand-written: the JSON form of the same, the error on stderr after the JSON.
VERSION_NO_SERVER_JSON = (
    '{"Client":{"Platform":{"Name":"Docker Engine - Community"},"Version":"24.0.7",'
    '"ApiVersion":"1.43","DefaultAPIVersion":"1.43","GitCommit":"afdd53b",'
    '"GoVersion":"go1.20.10","Os":"linux","Arch":"amd64",'
    '"BuildTime":"Thu Oct 26 09:07:41 2023","Context":"default"},"Server":null}\n'
    "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
    "Is the docker daemon running?\n"
)

# Hand-written after docker/cli's TestVersionFormat golden: an enterprise server that fills only
# its Engine component, plus components of its own.
VERSION_COMPONENTS_ONLY_JSON = (
    '{"Client":{"Version":"18.99.5-ce","ApiVersion":"1.38","Os":"linux","Arch":"amd64"},'
    '"Server":{"Platform":{"Name":"Docker Enterprise Edition (EE) 2.0"},"Version":"",'
    '"APIVersion":"","MinAPIVersion":"","Os":"","Arch":"","Experimental":false,'
    '"Components":[{"Name":"Engine","Version":"17.06.2-ee-15","Details":{"ApiVersion":"1.30",'
    '"Arch":"amd64","MinAPIVersion":"1.12","Os":"linux"}},'
    '{"Name":"Universal Control Plane","Version":"17.06.2-ee-15","Details":{}},'
    '{"Name":"Kubernetes","Version":"1.8+","Details":{"compiler":"gc"}}]}}\n'
)

# Hand-written in the layout of current docker: sizes without a space, a Build Cache row.
DF_CURRENT_TABLE = """\
TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE
Images          5         2         16.43MB   11.63MB (70%)
Containers      2         0         212B      212B (100%)
Local Volumes   2         1         36B       0B (0%)
Build Cache     0         0         0B        0B
"""

# Every output above, by the kind it is an output of.
HAND_WRITTEN = {
    "docker-info": [INFO_PERMISSION_DENIED, INFO_BEFORE_19_03, INFO_WITH_WRAPPED_WARNING,
                    INFO_JSON_DAEMON_DOWN],
    "docker-version": [VERSION_17_03_TEXT, VERSION_NO_SERVER_TEXT, VERSION_NO_SERVER_JSON,
                       VERSION_COMPONENTS_ONLY_JSON],
    "docker-df": [DF_CURRENT_TABLE],
}  # fmt: skip
