"""``appliance user add|list|remove``: REST users and their roles (store documents ``rest_user``)."""
from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any, TypeVar

from ..config import Config
from ..ocs.ports import Ledger
from .auth import ROLES, TOKEN_DOC, USER_DOC, user_doc

R = TypeVar("R")


def _tx(cfg: Config, fn: Callable[[Ledger], R]) -> R:
    from ..store import open_store
    store = open_store(cfg)
    try:
        return store.transact(fn)
    finally:
        store.close()


def cmd_add(cfg: Config, args: argparse.Namespace) -> int:
    password = os.environ.get("APPLIANCE_USER_PASSWORD") if args.password_env else None
    if password is None:
        password = getpass.getpass(f"password for {args.name}: ") if sys.stdin.isatty() else sys.stdin.readline()
    password = password.rstrip("\n")
    if len(password) < 8:
        print("appliance: a password needs at least 8 characters", file=sys.stderr)
        return 1
    if ":" in args.name or not args.name or len(args.name) > 128:
        print("appliance: a user name is 1-128 characters without ':'", file=sys.stderr)
        return 1
    try:
        doc = user_doc(args.role, password, int(time.time()))
    except ValueError as exc:
        print(f"appliance: {exc}", file=sys.stderr)
        return 1
    _tx(cfg, lambda l: l.put_doc(USER_DOC, args.name, doc))
    print(json.dumps({"user": args.name, "roles": doc["roles"]}))
    return 0


def cmd_list(cfg: Config, args: argparse.Namespace) -> int:
    for name, doc in _tx(cfg, lambda l: l.list_docs(USER_DOC)):
        print(json.dumps({"user": name, "roles": doc.get("roles", []), "created": doc.get("created")}))
    return 0


def cmd_remove(cfg: Config, args: argparse.Namespace) -> int:
    def remove(l: Ledger) -> bool:
        for key, tok in l.list_docs(TOKEN_DOC):
            if tok.get("user") == args.name:
                l.delete_doc(TOKEN_DOC, key)
        return bool(l.delete_doc(USER_DOC, args.name))

    if not _tx(cfg, remove):
        print(f"appliance: no user {args.name!r}", file=sys.stderr)
        return 1
    return 0


def register(subparsers: Any) -> None:
    group = subparsers.add_parser("user", help="REST API users", description="REST API users and roles")
    sub = group.add_subparsers(dest="sub", required=True)
    add = sub.add_parser("add", help="add or replace a user (password from the terminal or stdin)")
    add.add_argument("name")
    add.add_argument("--role", action="append", choices=sorted(ROLES), required=True,
                     help="admin, operator (TMF read/write), charging (Nrf, quota, wallet engine), readonly")
    add.add_argument("--password-env", action="store_true",
                     help="read the password from $APPLIANCE_USER_PASSWORD instead of stdin")
    add.set_defaults(func=cmd_add)
    lst = sub.add_parser("list", help="list users")
    lst.set_defaults(func=cmd_list)
    rm = sub.add_parser("remove", help="remove a user and revoke their tokens")
    rm.add_argument("name")
    rm.set_defaults(func=cmd_remove)
