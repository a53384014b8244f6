package localdisk

import "syscall"

// syscallENOTDIR: a path component is a file. With the "~" suffixes no key's
// directory is ever a file, but a store directory edited by hand might be.
var syscallENOTDIR error = syscall.ENOTDIR
