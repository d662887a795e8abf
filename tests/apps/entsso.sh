#!/usr/bin/env bash
. "$SOURCE_ROOT/tests/lib.sh"
done_testing
