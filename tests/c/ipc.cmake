# Shared-memory ring across processes and languages: C helper programs, each
# driven by tests/ipc_peer.py against a Python peer (1,000,000 records each way).
foreach(program ipc_producer ipc_consumer)
    add_executable(${program} "${CMAKE_CURRENT_LIST_DIR}/${program}.c")
    set_target_properties(${program} PROPERTIES C_STANDARD 11 C_STANDARD_REQUIRED ON)
    target_compile_options(${program} PRIVATE -Wall -Wextra -Werror -pedantic)
    target_link_libraries(${program} PRIVATE pyrt::pyrt)
endforeach()

if(Python3_Interpreter_FOUND)
    add_test(NAME ipc_c_producer_to_python_consumer
        COMMAND ${Python3_EXECUTABLE} "${CMAKE_CURRENT_LIST_DIR}/../ipc_peer.py"
                c-producer $<TARGET_FILE:ipc_producer> 1000000)
    add_test(NAME ipc_python_producer_to_c_consumer
        COMMAND ${Python3_EXECUTABLE} "${CMAKE_CURRENT_LIST_DIR}/../ipc_peer.py"
                c-consumer $<TARGET_FILE:ipc_consumer> 1000000)
    set_tests_properties(ipc_c_producer_to_python_consumer ipc_python_producer_to_c_consumer
        PROPERTIES TIMEOUT 180)
else()
    message(WARNING "No Python interpreter: the cross-language ring tests are not registered")
endif()
