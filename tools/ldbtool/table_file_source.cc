// ldbtool reads the bucket table a data server remembers in its data directory
// (dataserver/table_file.h). tools/CMakeLists.txt links ldbtool with comparators, ldb
// and common only, not with dataserver_lib and the server code behind it, so the one
// source file of that format is compiled into ldbtool here: one implementation of the
// format, not a copy.
#include "dataserver/table_file.cc"  // NOLINT(build/include)
