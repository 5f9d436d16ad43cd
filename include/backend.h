/**
 * @file backend.h
 * @brief libbackend: typed models, JSON, validation and storage for C services.
 *
 * Include this one header; it includes every module header.
 */
#ifndef BACKEND_H
#define BACKEND_H

#include "backend/common.h"
#include "backend/error.h"
#include "backend/model.h"
#include "backend/json.h"
#include "backend/record.h"
#include "backend/validate.h"
#include "backend/store.h"

#endif
