/* Types shared by the compile_fail sources and ok_control.c. ok_control.c
 * uses every macro correctly on these types, so if this header (or the
 * include path) breaks, the control test fails too. */
#ifndef BK_CF_TYPES_H
#define BK_CF_TYPES_H

#include <backend.h>

typedef enum { ROLE_ADMIN, ROLE_MEMBER } Role;

typedef struct Address {
    char *city;
    char *zip;
} Address;

typedef struct Company {
    char *name;
} Company;

typedef struct Shape {
    int kind;
    union { double radius; double side; } u;
} Shape;

typedef struct BadShape {
    long kind;
    union { double radius; double side; } u;
} BadShape;

typedef struct User {
    int64_t id;
    char *name;
    int32_t age;
    char small;
    Role role;
    bk_strs tags;
    bk_i32s scores;
    bk_ints roles;
    bk_list addresses;
    bk_map counters;
    Address home;
    Address *work;
    Company employer;
    char *nick;
    bk_presence nick_state;
    int nick_flag;
    Shape shape;
} User;

#endif
