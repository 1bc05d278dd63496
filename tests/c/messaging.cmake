# messaging: a C program publishing through the C API to a Python subscriber
# (tests/messaging_c_peer.py drives it), and threads for test_messaging.c.
find_package(Threads REQUIRED)
target_link_libraries(c_test_messaging PRIVATE Threads::Threads)

add_executable(messaging_publisher "${CMAKE_CURRENT_SOURCE_DIR}/c/messaging_publisher.c")
set_target_properties(messaging_publisher PROPERTIES C_STANDARD 11 C_STANDARD_REQUIRED ON)
target_compile_options(messaging_publisher PRIVATE -Wall -Wextra -Werror -pedantic)
target_link_libraries(messaging_publisher PRIVATE pyrt::pyrt)

if(Python3_Interpreter_FOUND)
    add_test(NAME c_messaging_publisher_to_python
        COMMAND ${Python3_EXECUTABLE} "${CMAKE_CURRENT_SOURCE_DIR}/messaging_c_peer.py"
                $<TARGET_FILE:messaging_publisher>)
    set_tests_properties(c_messaging_publisher_to_python PROPERTIES TIMEOUT 120)
else()
    # Fails, visibly, rather than disappearing from the test list.
    message(WARNING "c_messaging_publisher_to_python needs -DPython3_EXECUTABLE=<a Python with pyrt installed>")
    add_test(NAME c_messaging_publisher_to_python COMMAND ${CMAKE_COMMAND} -E false)
endif()

# The same test linked statically: the bundled libzmq needs the C++ runtime,
# which pyrt::pyrt_static's link interface must carry.
add_executable(c_test_messaging_static "${CMAKE_CURRENT_SOURCE_DIR}/c/test_messaging.c")
set_target_properties(c_test_messaging_static PROPERTIES C_STANDARD 11 C_STANDARD_REQUIRED ON)
target_include_directories(c_test_messaging_static PRIVATE "${CMAKE_CURRENT_SOURCE_DIR}/c")
target_link_libraries(c_test_messaging_static PRIVATE pyrt::pyrt_static Threads::Threads m)
add_test(NAME c_test_messaging_static COMMAND c_test_messaging_static)
